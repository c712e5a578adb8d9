import {describe, expect, it} from 'vitest'
import {PROBE_PATH, probeFlows, withProbe} from '../../../src/drill/probe.js'
import {agentProfileText, parseRole} from '../../../src/drill/topology/local.js'
import {parseProfileText} from '../../../src/profile/load.js'

const broker = {host: '10.0.0.1', port: 1883}

describe('the probe tab', () => {
  it('answers GET /ff-ha/probe with the replica name from FF_HA_REPLICA and a sequence number', () => {
    const nodes = probeFlows({mode: 'hot-spare', runId: 'r1', shareGroup: 'g'})
    const httpIn = nodes.find(n => n.type === 'http in')!
    expect(httpIn).toMatchObject({url: PROBE_PATH, method: 'get', wires: [['ff_ha_probe_answer']]})
    const fn = nodes.find(n => n.id === 'ff_ha_probe_answer')!
    expect(fn.func).toContain("env.get('FF_HA_REPLICA')")
    expect(nodes.some(n => n.type.startsWith('mqtt'))).toBe(false) // no broker: no MQTT part
  })

  it('hot-spare MQTT: one fixed client id, persistent v5 session, no unsubscribe on stop, plain topic', () => {
    const nodes = probeFlows({mode: 'hot-spare', runId: 'r1', broker, shareGroup: 'g'})
    expect(nodes.find(n => n.type === 'mqtt-broker')).toMatchObject({broker: '10.0.0.1', port: '1883', clientid: 'ff-ha-probe-r1', protocolVersion: '5', cleansession: false, autoUnsubscribe: false, sessionExpiry: '3600'})
    expect(nodes.find(n => n.type === 'ff-ha mqtt in')).toMatchObject({topic: 'ff-ha/probe/r1/req', qos: '1'})
  })

  it('load-balanced MQTT: a random id per replica, clean session, $share subscription', () => {
    const nodes = probeFlows({mode: 'load-balanced', runId: 'r1', broker, shareGroup: 'shop'})
    expect(nodes.find(n => n.type === 'mqtt-broker')).toMatchObject({clientid: '', cleansession: true})
    expect(nodes.find(n => n.type === 'ff-ha mqtt in')).toMatchObject({topic: '$share/shop/ff-ha/probe/r1/req', qos: '1'})
  })

  it('is added beside the user flows and replaces an earlier probe; a new generation changes one comment only', () => {
    const user = [{id: 'u1', type: 'tab'}]
    const once = withProbe(user, {mode: 'hot-spare', runId: 'r', shareGroup: 'g'})
    const twice = withProbe(once, {mode: 'hot-spare', runId: 'r', shareGroup: 'g', generation: 2})
    expect(twice.filter(n => n.id === 'ff_ha_probe_tab')).toHaveLength(1)
    expect(twice[0]).toEqual(user[0])
    const changed = twice.filter(n => JSON.stringify(n) !== JSON.stringify(once.find(o => o.id === n.id)))
    expect(changed.map(n => n.id)).toEqual(['ff_ha_probe_generation'])
  })
})

describe('local topology helpers', () => {
  it("the agents' profile copy is a local sqlite set with the witness filled in, and still a valid profile", () => {
    const text = agentProfileText('name: shop\ntarget: kubernetes\nmode: hot-spare\nfailover:\n  lease: kubernetes\n', '10.1.2.1:4000')
    const p = parseProfileText(text)
    expect(p.target).toBe('compose')
    expect(p.failover.lease).toBe('sqlite')
    expect(p.failover.witness).toBe('10.1.2.1:4000')
  })

  it("reads role changes from the agent's JSON log lines and ignores everything else", () => {
    expect(parseRole('{"ts":"x","replica":"a","event":"role","role":"active","from":"spare","fencingToken":3}')).toBe('active')
    expect(parseRole('{"event":"lease","action":"acquired"}')).toBeUndefined()
    expect(parseRole('Welcome to Node-RED')).toBeUndefined()
  })
})
