import {performance} from 'node:perf_hooks'
import {gunzipSync} from 'node:zlib'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {FlowsWatcher, TEST_TOKEN, probeFlows, sleep, startAgents, type AgentSet} from '../../../harness/agents.js'
import {skipWithoutEtcd, startEtcd, type EtcdCluster} from '../../../harness/etcd.js'
import {AdminClient} from '../../../src/admin/client.js'

// A deploy to ONE replica reaches the other on the etcd lease (docs/design/editor-deploy.md): two real agents,
// each with a real Node-RED 4.1, on a REAL etcd member (Debian's etcd-server 3.4). Flows posted to the
// active's admin API are committed by its storage wrapper to the flows record in etcd (beside the lease), and
// the spare's agent brings its Node-RED to the same rev, flows stopped. A watcher samples both Node-REDs'
// /flows/state every 20 ms and fails the file if both ever ran flows at once. Without etcd this file says
// loudly what did not run (and fails under CI=true or FF_HA_REQUIRE_ETCD=1).
const skip = skipWithoutEtcd('test/integration/agent/etcd-editor-deploy.test.ts (the flows record on the etcd lease, real agents)')

const PREFIX = '/ff-ha-editor-test/'
const LEASE = 'etcd-editor-leader'
const profileFor = (endpoints: string[]) => `name: etcd-editor\nmode: hot-spare\ntarget: compose\nfailover:\n  lease: etcd\n  etcd:\n    endpoints: [${endpoints.join(', ')}]\n    prefix: ${PREFIX}\n`

async function etcdValue(endpoint: string, key: string): Promise<{value: Buffer; modRevision: string; lease: string} | null> {
  const res = await request(`${endpoint}/v3/kv/range`, {method: 'POST', body: JSON.stringify({key: Buffer.from(key).toString('base64')})})
  const kv = ((await res.body.json()) as {kvs?: {value: string; mod_revision: string; lease?: string}[]}).kvs?.[0]
  return kv ? {value: Buffer.from(kv.value, 'base64'), modRevision: kv.mod_revision, lease: kv.lease ?? '0'} : null
}

describe.skipIf(skip).sequential('the editor\'s Deploy on the etcd lease (real etcd, real agents, real Node-RED)', () => {
  let etcd: EtcdCluster
  let set: AgentSet
  let watcher: FlowsWatcher
  const admin = (a: {name: string; nodeRedUrl: string}) => new AdminClient({name: a.name, url: a.nodeRedUrl}, {auth: {token: TEST_TOKEN}})

  beforeAll(async () => {
    etcd = await startEtcd(1)
    set = await startAgents({replicas: 2, profile: profileFor(etcd.endpoints)})
    watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
    await set.waitForActive(90_000)
    await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active' || (s.role === 'spare' && s.flowsState === 'stop'), 90_000, 'active, or spare with flows stopped')))
  }, 150_000)

  afterAll(async () => {
    await watcher?.stop()
    await set?.stop()
    await etcd?.destroy()
  })

  it('both agents open the flows record in etcd', () => {
    for (const a of set.agents) {
      expect(a.events.find(e => e.event === 'flows-record' && e.action === 'open')).toMatchObject({store: `etcd ${PREFIX}flows/${LEASE}/record (${etcd.endpoints[0]})`})
    }
  })

  it('flows deployed to the active\'s admin API reach the spare\'s Node-RED with the same rev; the spare stays stopped; the record in etcd holds them, on no etcd lease', async () => {
    const active = await set.waitForActive()
    const spare = set.agents.find(a => a !== active)!
    const marks = new Map(set.agents.map(a => [a.name, a.events.length]))
    const flows = [...probeFlows(), {id: 'etcd-deploy-marker', type: 'comment', z: probeFlows()[0].id, name: `deployed ${Date.now()}`, x: 300, y: 300, wires: []}]
    const before = await admin(spare).getFlows()
    const t0 = performance.now()
    const {rev} = await admin(active).postFlows(flows, {type: 'full'})
    expect(rev).not.toBe(before.rev)
    const deadline = performance.now() + 20_000
    let spareRev = before.rev
    while (spareRev !== rev && performance.now() < deadline) {
      await sleep(50)
      spareRev = (await admin(spare).getFlows()).rev
    }
    const ms = performance.now() - t0
    console.log(`etcd flows record: deploy to the active -> the spare on the same rev ${Math.round(ms)} ms after the POST was sent`)
    expect(spareRev).toBe(rev)
    expect((await admin(spare).getFlows()).flows.find(n => n.id === 'etcd-deploy-marker')).toMatchObject({name: flows.at(-1)!.name})

    // The active committed (its own save), the spare's agent converged on it; the active was not restarted twice.
    const committed = active.events.slice(marks.get(active.name)).filter(e => e.event === 'flows-record' && e.action === 'committed')
    expect(committed).toHaveLength(1)
    expect(committed[0]).toMatchObject({rev: rev.slice(0, 12), origin: 'api'})
    expect(spare.events.slice(marks.get(spare.name)).find(e => e.event === 'flows-record' && e.action === 'converged')).toMatchObject({rev: rev.slice(0, 12), from: active.name, running: false})
    expect(active.events.slice(marks.get(active.name)).filter(e => e.event === 'flows-record' && e.action === 'converged')).toEqual([])

    // The spare stays a spare with its flows stopped; the active keeps running its flows.
    await sleep(1000)
    expect(await spare.flowsState()).toBe('stop')
    expect((await spare.status())!.role).toBe('spare')
    expect(await active.flowsState()).toBe('start')
    expect((await admin(active).getFlows()).rev).toBe(rev)

    // In etcd: head and record at one mod_revision, naming this rev, neither on an etcd lease.
    const head = (await etcdValue(etcd.endpoints[0], `${PREFIX}flows/${LEASE}/head`))!
    const record = (await etcdValue(etcd.endpoints[0], `${PREFIX}flows/${LEASE}/record`))!
    expect(JSON.parse(head.value.toString())).toEqual({rev, origin: 'api', replica: active.name})
    expect(head.modRevision).toBe(record.modRevision)
    expect([head.lease, record.lease]).toEqual(['0', '0'])
    const stored = JSON.parse(gunzipSync(record.value).toString()) as {rev: string; flows: {id: string}[]}
    expect(stored.rev).toBe(rev)
    expect(stored.flows.map(n => n.id)).toContain('etcd-deploy-marker')
  }, 60_000)

  it('the spare that converged takes over with the deployed rev when the active stops (the lease gate let it)', async () => {
    const active = await set.waitForActive()
    const spare = set.agents.find(a => a !== active)!
    const rev = (await admin(active).getFlows()).rev
    active.signal('SIGTERM')
    const next = await set.waitForActive(20_000, active.name)
    expect(next).toBe(spare)
    await next.waitForStatus(s => s.flowsState === 'start', 20_000, 'flows running')
    expect((await admin(next).getFlows()).rev).toBe(rev)
    await active.exited
  }, 60_000)

  it('never had both Node-REDs running flows at once, through all of the above', () => {
    expect(watcher.dualActive()).toEqual([])
  })
})
