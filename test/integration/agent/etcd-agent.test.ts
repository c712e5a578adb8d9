import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {promisify} from 'node:util'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {FlowsWatcher, describeAround, sleep, startAgents, type AgentProcess, type AgentSet} from '../../../harness/agents.js'
import {skipWithoutEtcd, startEtcd, startEtcdCluster, type EtcdCluster} from '../../../harness/etcd.js'
import {freePort} from '../../../src/net/free-port.js'
import {packageRoot} from '../../../src/paths.js'

// `ff-ha agent` on the etcd lease: two real agents, each with a real Node-RED 4.1, on a REAL 3-member etcd
// cluster (Debian's etcd-server 3.4, on loopback) with the etcd backend's default timings. A watcher samples
// both Node-REDs' /flows/state every 20 ms for the whole file and fails it if both were ever started at once.
// Then the bad inputs, as the CLI says them: a malformed etcd URL (exit 2, file:line:col, a hint) and no
// reachable member at start (exit 1, one line naming them). Without etcd the cluster tests say loudly what did
// not run (and fail under CI=true or FF_HA_REQUIRE_ETCD=1); the bad-input tests need no etcd (but the late
// members' one).
const skip = skipWithoutEtcd('test/integration/agent/etcd-agent.test.ts (agents on a real etcd cluster)')

const PREFIX = '/ff-ha-agent-test/'
const LEASE_KEY = `${PREFIX}lease/etcd-agent-leader`
const profileFor = (endpoints: string[]) => `name: etcd-agent\nmode: hot-spare\ntarget: compose\nfailover:\n  lease: etcd\n  etcd:\n    endpoints: [${endpoints.join(', ')}]\n    prefix: ${PREFIX}\n`

async function etcdGet(endpoint: string, key: string): Promise<{record: Record<string, unknown>; modRevision: number; lease: string} | null> {
  const res = await request(`${endpoint}/v3/kv/range`, {method: 'POST', body: JSON.stringify({key: Buffer.from(key).toString('base64')})})
  const body = (await res.body.json()) as {kvs?: {value: string; mod_revision: string; lease?: string}[]}
  const kv = body.kvs?.[0]
  if (!kv) return null
  return {record: JSON.parse(Buffer.from(kv.value, 'base64').toString()), modRevision: Number(kv.mod_revision), lease: kv.lease ?? '0'}
}

const leaseEvents = (a: AgentProcess, action: string, from = 0) => a.events.slice(from).filter(e => e.event === 'lease' && e.action === action)

describe.skipIf(skip).sequential('ff-ha agent on the etcd lease (real 3-member etcd, real agents, real Node-RED)', () => {
  let etcd: EtcdCluster
  let set: AgentSet
  let watcher: FlowsWatcher

  beforeAll(async () => {
    etcd = await startEtcd(3)
    set = await startAgents({replicas: 2, profile: profileFor(etcd.endpoints)})
    watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
    await set.waitForActive(90_000)
    await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active' || s.role === 'spare', 90_000, 'spare or active')))
  }, 150_000)

  afterAll(async () => {
    await watcher?.stop()
    await set?.stop()
    await etcd?.destroy()
  })

  it('one active: the etcd key names it, hangs on an etcd lease, and its renewals move the key\'s revision', async () => {
    const active = await set.waitForActive()
    const spare = set.agents.find(a => a !== active)!
    expect(await spare.flowsState()).toBe('stop')
    const s = (await active.status())!
    expect(s).toMatchObject({role: 'active', leaseHolder: active.name, flowsState: 'start'})
    const first = (await etcdGet(etcd.endpoints[0], LEASE_KEY))!
    expect(first.record).toMatchObject({holder: active.name, transitions: s.fencingToken, leaseDurationMs: 2000})
    expect(first.lease).not.toBe('0')
    await sleep(1000)
    const later = (await etcdGet(etcd.endpoints[0], LEASE_KEY))!
    // retryPeriod 250 ms: a few renewals in a second, each a new revision; same tenure, same token.
    expect(later.modRevision).toBeGreaterThan(first.modRevision + 1)
    expect(later.record).toMatchObject({holder: active.name, transitions: first.record.transitions})
    expect(active.events.find(e => e.event === 'start')).toMatchObject({lease: expect.stringContaining(`etcd ${LEASE_KEY}`)})
  })

  it('the active replica dies whole (agent and Node-RED, kill -9): the spare takes over after the lease, with a larger token; the dead one comes back as a spare', async () => {
    const active = await set.waitForActive()
    const spare = set.agents.find(a => a !== active)!
    const before = (await active.status())!
    const nodeRedPid = active.nodeRedPid!
    const t0 = performance.now()
    active.child.kill('SIGKILL')
    process.kill(nodeRedPid, 'SIGKILL')
    const next = await set.waitForActive(20_000, active.name)
    const takeoverMs = performance.now() - t0
    console.log(`etcd lease: replica crash (agent + Node-RED kill -9) taken over in ${Math.round(takeoverMs)} ms (leaseDuration 2000 ms)`)
    expect(next).toBe(spare)
    // Not before the lease could expire (the spare waits a whole leaseDuration after it last saw a renewal).
    expect(takeoverMs).toBeGreaterThan(2000 - 250 - 100)
    expect(takeoverMs).toBeLessThan(8000) // loose: the bench measures it; other tests share the 2 cores
    const after = (await next.status())!
    expect(after.fencingToken!).toBeGreaterThan(before.fencingToken!)
    expect((await etcdGet(etcd.endpoints[0], LEASE_KEY))!.record).toMatchObject({holder: next.name, transitions: after.fencingToken})
    await active.exited
    active.spawn()
    await active.waitForStatus(st => st.role === 'spare', 90_000, 'spare')
    expect(await active.flowsState()).toBe('stop')
    expect((await next.status())!.role).toBe('active')
  }, 150_000)

  it('a graceful stop (SIGTERM) of the active: it releases the lease, the spare takes it at its next poll, not after the lease', async () => {
    const active = await set.waitForActive()
    const spare = set.agents.find(a => a !== active)!
    const before = (await active.status())!
    const t0 = performance.now()
    active.signal('SIGTERM')
    const next = await set.waitForActive(20_000, active.name)
    const handoverMs = performance.now() - t0
    console.log(`etcd lease: graceful handover (SIGTERM of the active agent) in ${Math.round(handoverMs)} ms`)
    expect(next).toBe(spare)
    expect(handoverMs).toBeLessThan(2000) // a release, not an expiry (the lease is 2000 ms)
    expect((await next.status())!.fencingToken!).toBeGreaterThan(before.fencingToken!)
    expect((await active.exited).code).toBe(0)
    active.spawn()
    await active.waitForStatus(st => st.role === 'spare', 90_000, 'spare')
  }, 150_000)

  it('etcd loses quorum (2 of 3 members killed): the active stops its flows before its lease can expire, the spare stays spare, each logs the loss once; when quorum is back each logs it once and one replica leads again', async () => {
    const active = await set.waitForActive()
    const spare = set.agents.find(a => a !== active)!
    const marks = new Map(set.agents.map(a => [a.name, a.events.length]))
    const leader = (await etcd.leader())!
    const others = etcd.members.map(m => m.name).filter(n => n !== leader)
    const t0 = performance.now()
    await Promise.all([etcd.kill(leader), etcd.kill(others[0])])
    // The active can no longer renew: it must stop leading at renewDeadline (1.5 s) after its last renewal.
    await active.waitForStatus(st => st.role !== 'active', 10_000, 'not active')
    const stoppedMs = performance.now() - t0
    expect(stoppedMs).toBeLessThan(2000 + 1000) // before the lease could expire, with slack for a loaded machine
    expect(await active.flowsState()).toBe('stop')
    // A long outage: many failed rounds, still one log line per agent, no crash loop.
    await sleep(4000)
    for (const a of set.agents) {
      expect(a.running).toBe(true)
      expect(leaseEvents(a, 'store-lost', marks.get(a.name))).toHaveLength(1)
      expect((await a.status())!.role).not.toBe('active')
    }
    expect(spare.events.slice(marks.get(spare.name)).filter(e => e.event === 'role' && e.role === 'active')).toEqual([])
    const lost = leaseEvents(active, 'store-lost', marks.get(active.name))[0]
    expect(String(lost.error)).toMatch(/etcd unreachable: /)

    await Promise.all([etcd.start(leader), etcd.start(others[0])])
    const back = await set.waitForActive(30_000)
    for (const a of set.agents) {
      await a.waitForEvent(e => e.event === 'lease' && e.action === 'store-regained', 10_000, marks.get(a.name))
      expect(leaseEvents(a, 'store-regained', marks.get(a.name))).toHaveLength(1)
      expect(leaseEvents(a, 'store-lost', marks.get(a.name))).toHaveLength(1)
    }
    expect((await back.status())!.flowsState).toBe('start')
  }, 120_000)

  it('never had both Node-REDs running flows at once, through all of the above', () => {
    const dual = watcher.dualActive()
    if (dual.length) console.log(JSON.stringify(dual), describeAround(set, watcher, dual[0].from))
    expect(dual).toEqual([])
  })
})

describe('ff-ha agent on the etcd lease: bad input', () => {
  const run = promisify(execFile)
  let dir: string
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'ff-ha-etcd-cli-'))))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const agent = async (profile: string) => {
    writeFileSync(join(dir, 'ff-ha.yaml'), profile)
    const statusPort = String(await freePort())
    return run(process.execPath, [join(packageRoot, 'bin', 'run.js'), 'agent', '--replica', 'a', '--profile', join(dir, 'ff-ha.yaml'), '--user-dir', join(dir, 'ud'), '--status-port', statusPort], {
      cwd: dir,
      env: {PATH: process.env.PATH ?? '', NO_COLOR: '1', FF_HA_ADMIN_TOKEN: 'agent-cli-token-123', FF_HA_CREDENTIAL_SECRET: 'agent-cli-secret-123'},
      timeout: 30_000,
    }).then(
      r => ({code: 0, stderr: r.stderr}),
      e => ({code: e.code as number, stderr: String(e.stderr)}),
    )
  }

  it('a malformed etcd URL in the profile: exit 2, file:line:col, a hint, no stack trace', async () => {
    const r = await agent('name: app\nfailover:\n  lease: etcd\n  etcd:\n    endpoints: [http://10.0.0.5:2379, "10.0.0.6:2379"]\n')
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`error ${join(dir, 'ff-ha.yaml')}:5:39 failover.etcd.endpoints.1: has no scheme: write http://10.0.0.6:2379 (or https:// for TLS)\nhint  for example: - http://10.0.0.5:2379\n`)
  })

  it('no etcd member reachable at start: after waiting 10 s for them (hosts boot together), exit 1, one line naming every endpoint and why', async () => {
    const [p1, p2] = [await freePort(), await freePort()]
    const endpoints = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`]
    const t0 = performance.now()
    const r = await agent(`name: app\nfailover:\n  lease: etcd\n  etcd:\n    endpoints: [${endpoints.join(', ')}]\n`)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `error a: cannot reach the etcd lease at ${endpoints.join(', ')} (for 10 s): ${endpoints.map(e => `${e} (connection refused)`).join(', ')}\n` +
        'hint  start the etcd members (and check that this host reaches them), or correct failover.etcd.endpoints\n',
    )
    const took = performance.now() - t0
    expect(took).toBeGreaterThanOrEqual(10_000)
    expect(took).toBeLessThan(25_000)
  }, 40_000)

  it.skipIf(skip)('etcd members that come up within the start wait: the agent waits for them and becomes active', async () => {
    const [client, peer] = [await freePort(), await freePort()]
    const endpoint = `http://127.0.0.1:${client}`
    const set = await startAgents({replicas: 1, profile: profileFor([endpoint])})
    let late: EtcdCluster | undefined
    try {
      await sleep(3000)
      expect(set.agents[0].running).toBe(true)
      late = await startEtcdCluster([{name: 'late', clientUrl: endpoint, peerUrl: `http://127.0.0.1:${peer}`, dataDir: join(set.dir, 'etcd')}])
      await set.waitForActive(60_000)
    } finally {
      await set.stop()
      await late?.destroy()
    }
  }, 120_000)
})
