import {execFileSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {which} from '../../../src/drill/tools.js'
import {hostsUnavailable} from '../../../src/drill/topology/hosts.js'
import {etcdLeaseAvailable} from '../../../src/drill/topology/hosts-lease.js'
import {DEFAULT_TIMINGS} from '../../../src/profile/defaults.js'
import type {Timings} from '../../../src/profile/schema.js'
import {drillDirsUnder, processesUnder, removeScratch, runDrill, scratch, type CliRun, type DrillJson} from './helpers.js'

// `failover-test --target hosts`: three "hosts" (network namespaces on a bridge), an etcd member on each,
// agents with real Node-RED on hosts 0 and 1 holding the etcd lease, HAProxy and the drill on the bridge's
// side. One drill run, one iteration of each scenario, judged by the drill's own observer: never two
// replicas running flows, a takeover where the active is gone, none where it can still renew.
// Needs root, iproute2, etcd and haproxy: without them this file says loudly what did not run; under CI
// (CI=true) or FF_HA_REQUIRE_HOSTS=1 that is a failure.
const why = hostsUnavailable() ?? (which('haproxy') ? undefined : 'haproxy is not on PATH (apt-get install haproxy)')
if (why) {
  const line = `NOT RUN: test/integration/drill/hosts.test.ts (the hosts target: etcd in network namespaces, host-loss, etcd faults): ${why}. To run it: as root on Linux, apt-get install iproute2 etcd-server haproxy`
  if (process.env.CI === 'true' || process.env.CI === '1' || process.env.FF_HA_REQUIRE_HOSTS === '1') throw new Error(line)
  console.warn(`\n${'!'.repeat(100)}\n${line}\n${'!'.repeat(100)}\n`)
}
const etcd = etcdLeaseAvailable()
if (!why && !etcd) console.warn(`\n${'!'.repeat(100)}\nNOT RUN: the etcd scenarios of hosts.test.ts: this build has no etcd lease backend (failover.lease: etcd); the hosts ran the sqlite fallback lease\n${'!'.repeat(100)}\n`)

const timings = (DEFAULT_TIMINGS as Record<string, Timings>)[etcd ? 'etcd' : 'sqlite']
const PROFILE = `name: drill-hosts
slo:
  maxMttrMs: 15000
  maxLostMessages: 100000
`
const SCENARIOS = ['partition', 'host-loss', ...(etcd ? ['etcd-leader-kill', 'etcd-member-partition', 'etcd-outage', 'etcd-outage-long'] : [])]

let dir: string
let drillPid = 0
let run: CliRun
let json: DrillJson
const scenario = (name: string) => {
  const s = json.scenarios.find(x => x.name === name)
  if (!s) throw new Error(`no ${name} in the report: ${json.scenarios.map(x => x.name).join(', ')}`)
  expect(s.skipped, `${name} skipped`).toBeUndefined()
  expect(s.failures, `${name} failures`).toEqual([])
  expect(s.iterations).toHaveLength(1)
  return {s, it: s.iterations[0] as DrillJson['scenarios'][number]['iterations'][number] & {detectionMs: number | null; httpFailed: number}}
}

describe.skipIf(why !== undefined)('failover-test --target hosts (etcd in network namespaces, as root)', () => {
  beforeAll(async () => {
    dir = scratch()
    const drill = await runDrill(dir, PROFILE, ['--target', 'hosts', '--proxy', 'haproxy', '--traffic', 'http', '--rate', '40', '--scenario', SCENARIOS.join(','), '--iterations', '1'], {onSpawn: pid => (drillPid = pid)})
    run = drill.run
    json = drill.json
  }, 280_000)

  afterAll(() => removeScratch(dir))

  it('runs the hosts target with the etcd lease on the three members, and lists every fault class', () => {
    expect(json.target).toBe('hosts')
    expect((json as unknown as {lease: string}).lease).toMatch(etcd ? /^etcd http:\/\/10\.\d+\.\d+\.10:2379,http:\/\/10\.\d+\.\d+\.11:2379,http:\/\/10\.\d+\.\d+\.12:2379$/ : /^sqlite/)
    const classes = (json as unknown as {faultClasses: {name: string; status: string}[]}).faultClasses
    expect(classes.map(c => c.name).slice(0, 8)).toEqual(['crash', 'replica-crash', 'hang', 'freeze', 'partition', 'host-loss', 'graceful', 'deploy'])
    for (const name of SCENARIOS) expect(classes.find(c => c.name === name)?.status, name).toBe('ran')
    expect(run.code, run.stderr.slice(-2000)).toBe(0)
  })

  it('partition: the cut-off active stops, the other host takes over, never two running flows', () => {
    const {it} = scenario('partition')
    expect(it.newActive).not.toBeNull()
    expect(it.newActive).not.toBe(it.faulted)
    expect(it.dualActiveMs).toBe(0)
  })

  it('host-loss: the other host takes over once the lease has expired (nobody released it), never two running flows', () => {
    const {it} = scenario('host-loss')
    expect(it.newActive).not.toBeNull()
    expect(it.newActive).not.toBe(it.faulted)
    expect(it.dualActiveMs).toBe(0)
    // ordering: the spare cannot have taken over before the lease could expire by its own clock (it last saw
    // the record change at most a retry period before the loss)
    expect(it.detectionMs).not.toBeNull()
    expect(it.detectionMs!).toBeGreaterThanOrEqual(timings.leaseDurationMs - timings.retryPeriodMs - 100)
    expect(it.httpFailed).toBeGreaterThan(0)
  })

  it.skipIf(!etcd)('etcd leader killed: the cluster elects another, never two running flows, clients served again', () => {
    const {it} = scenario('etcd-leader-kill')
    expect(it.dualActiveMs).toBe(0)
    expect(it.newActive).not.toBeNull()
  })

  it.skipIf(!etcd)('one etcd member (the witness host) cut off: quorum holds, the active keeps leading, no takeover', () => {
    const {it} = scenario('etcd-member-partition')
    expect(it.dualActiveMs).toBe(0)
    expect(it.newActive).toBe(it.faulted)
  })

  it.skipIf(!etcd)('the whole etcd cluster unreachable for less than the renew deadline: the active renews after and keeps running', () => {
    const {it} = scenario('etcd-outage')
    expect(it.dualActiveMs).toBe(0)
    expect(it.newActive).toBe(it.faulted)
    expect(it.httpFailed).toBe(0)
    expect(it.detectionMs).toBeNull()
  })

  it.skipIf(!etcd)('the whole etcd cluster unreachable past the renew deadline (less than the lease): the active stops before its lease can expire', () => {
    const {it} = scenario('etcd-outage-long')
    expect(it.dualActiveMs).toBe(0)
    // it gave up leading by its renew deadline (counted from its last renew, sent before the outage)
    expect(it.detectionMs).not.toBeNull()
    expect(it.detectionMs!).toBeLessThan(timings.leaseDurationMs)
    expect(it.newActive).not.toBeNull()
  })

  it('removes its namespaces, links, firewall rule and processes', () => {
    // the names netns.ts gives, from the drill's pid (other drills may run beside this one)
    const id = (drillPid % 46656).toString(36).padStart(3, '0')
    expect(drillPid).toBeGreaterThan(0)
    expect(execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})).not.toMatch(new RegExp(`ffha-${id}[0-9a-z]{2}-`))
    expect(execFileSync('ip', ['link'], {encoding: 'utf8'})).not.toMatch(new RegExp(`ff[bv]${id}[0-9a-z]{2}`))
    if (which('iptables')) expect(execFileSync('iptables', ['-S', 'FORWARD'], {encoding: 'utf8'})).not.toMatch(new RegExp(`ffb${id}[0-9a-z]{2}`))
    expect(processesUnder(dir)).toEqual([])
    expect(drillDirsUnder(dir)).toEqual([])
  })
})
