import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {drillDirsUnder, processesUnder, removeScratch, runDrill, scratch, type CliRun, type DrillJson} from './helpers.js'

// A real local drill: two ff-ha agents with real Node-RED 4.1, the sqlite lease, HAProxy with the
// rendered haproxy.cfg and Mosquitto (both installed by .ci/run), HTTP and MQTT QoS 1 traffic, one
// iteration of each scenario. Bounds are loose (the machine is shared); bench/failover has the targets.
const PROFILE = `name: drill-hot-spare
mode: hot-spare
slo:
  maxMttrMs: 15000
  # the default: the probe's ff-ha mqtt in acks a request only after its echo is published
  maxLostMessages: 0
  maxDualActiveMs: 0
`

let dir: string
let run: CliRun
let json: DrillJson

beforeAll(async () => {
  dir = scratch()
  const drill = await runDrill(dir, PROFILE, ['--scenario', 'crash,replica-crash,hang,freeze,graceful,deploy', '--iterations', '1', '--junit', 'drill.xml', '--report', 'drill.html'])
  run = drill.run
  json = drill.json
}, 300_000)

afterAll(() => removeScratch(dir))

describe('failover-test, local hot-spare (real agents, Node-RED, HAProxy, Mosquitto)', () => {
  it('passes and says which proxy and broker ran', () => {
    expect(run.stderr).not.toMatch(/internal error/)
    expect(json.target).toBe('local')
    expect(json.mode).toBe('hot-spare')
    expect(json.proxy).toMatch(/^haproxy 2\.\d/)
    expect(json.broker).toMatch(/^mosquitto 2\.\d/)
    expect(json.baseline.coldStartMs).toBeGreaterThan(100)
    expect(json.scenarios.map(s => s.name)).toEqual(['crash', 'replica-crash', 'hang', 'freeze', 'graceful', 'deploy'])
    expect(json.scenarios.map(s => [s.name, s.failures])).toEqual(json.scenarios.map(s => [s.name, []]))
    expect(run.code).toBe(0)
    expect(json.passed).toBe(true)
  })

  it('a spare takes over in every fault, never with two replicas running flows (freeze: wake-up overlap < 50 ms)', () => {
    for (const s of json.scenarios.filter(x => x.name !== 'deploy')) {
      const it = s.iterations[0]
      expect(it.newActive, s.name).not.toBeNull()
      expect(it.newActive, s.name).not.toBe(it.faulted)
      expect(it.dualActiveMs, s.name).toBeLessThan(s.name === 'freeze' ? 50 : 0.001)
    }
  })

  it('deploys by handover: the lease moves to the updated spare, never with two replicas running flows', () => {
    const deploy = json.scenarios.find(s => s.name === 'deploy')!.iterations[0]
    expect(deploy.newActive).not.toBeNull()
    expect(deploy.newActive).not.toBe(deploy.faulted)
    expect(deploy.dualActiveMs).toBe(0)
  })

  it('loses no QoS 1 message in any scenario, deploy included (ff-ha mqtt in acks after the echo), and counts every message', () => {
    for (const s of json.scenarios) {
      expect(s.iterations[0].mqttSent, s.name).toBeGreaterThan(20)
      expect(s.mqttLost, s.name).toBe(0)
      expect(s.mqttLostAfterStop, s.name).toBe(0)
      // duplicates are the price of at-least-once: counted, never negative, at most what was sent
      expect(s.mqttDuplicated, s.name).toBeLessThanOrEqual(s.iterations[0].mqttSent)
    }
  })

  it('recovers within loose bounds, as a client sees it', () => {
    const mttr = Object.fromEntries(json.scenarios.map(s => [s.name, s.mttrMs.max ?? Infinity]))
    expect(mttr.crash).toBeLessThan(5000)
    // agent and Node-RED killed together: nobody releases the lease, but their liveness locks are free, so the
    // spare takes over before the lease (2000 ms, renewed every 200 ms) could have expired: < 1800 ms
    expect(mttr['replica-crash']).toBeLessThan(1800)
    // both frozen: the locks stay held, the spare waits for the expiry
    expect(mttr.freeze).toBeGreaterThan(1800)
    expect(mttr.hang).toBeLessThan(8000)
    expect(mttr.freeze).toBeLessThan(8000)
    expect(mttr.graceful).toBeLessThan(5000)
    expect(mttr.deploy).toBeLessThan(5000)
    for (const s of json.scenarios) expect(s.iterations[0].httpSent, s.name).toBeGreaterThan(30)
  })

  it('writes valid JUnit (a testcase per scenario) and a self-contained HTML report', () => {
    const xml = readFileSync(join(dir, 'drill.xml'), 'utf8')
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true)
    expect(xml.match(/<testcase /g)).toHaveLength(6)
    expect(xml).toMatch(/<testsuites name="ff-ha failover-test" tests="6" failures="0"/)
    const html = readFileSync(join(dir, 'drill.html'), 'utf8')
    expect(html.match(/<svg /g)).toHaveLength(6)
    expect(html).not.toMatch(/(src|href)=|<script/)
  })

  it('leaves no process and no temporary directory behind', () => {
    expect(processesUnder(dir)).toEqual([])
    expect(drillDirsUnder(dir)).toEqual([])
  })
})
