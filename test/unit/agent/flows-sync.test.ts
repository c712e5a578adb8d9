import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {AdminClient} from '../../../src/admin/client.js'
import {AdminError} from '../../../src/admin/errors.js'
import type {FlowNode} from '../../../src/admin/types.js'
import {SqliteFlowsRecordStore} from '../../../src/agent/flows-record/sqlite.js'
import {FlowsSync, parseCommit, type CommitRequest} from '../../../src/agent/flows-sync.js'
import {flowsRev} from '../../../src/deploy/rev.js'
import {FakeClock} from './fakes.js'

// The agent's flows sync against the real sqlite flows record (a file in a temp dir, in this process) and a
// fake Node-RED admin API (an object with Node-RED's rev rule: a POST with a stale rev is a 409).

const X: FlowNode[] = [{id: 't', type: 'tab', label: 'x'}]
const Y: FlowNode[] = [{id: 't', type: 'tab', label: 'y'}]
const Z: FlowNode[] = [{id: 't', type: 'tab', label: 'z'}]
const CREDS = {$: 'ab12cd34encrypted'}

/** Node-RED's admin API as far as the sync uses it: GET /flows and POST /flows with its rev check. */
class FakeNodeRed {
  flows: FlowNode[] = X
  posts: {rev?: string; type?: string; credentials?: unknown}[] = []
  down = false
  get rev(): string {
    return flowsRev(this.flows)
  }
  async getFlows() {
    if (this.down) throw new AdminError('r', 'unreachable', 'connection refused')
    return {flows: this.flows, rev: this.rev}
  }
  async postFlows(flows: FlowNode[], o: {rev?: string; type?: string; credentials?: unknown}) {
    this.posts.push(o)
    if (o.rev && o.rev !== this.rev) throw new AdminError('r', 'conflict', 'HTTP 409 version_mismatch', 409)
    this.flows = flows
    return {rev: this.rev}
  }
}

const dirs: string[] = []
const stores: SqliteFlowsRecordStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

function file(): string {
  const d = mkdtempSync(join(tmpdir(), 'ff-ha-flows-record-'))
  dirs.push(d)
  return join(d, 'lease.db')
}

function agent(replica: string, dbFile: string, o: {running?: boolean; clock?: FakeClock} = {}) {
  const store = new SqliteFlowsRecordStore(dbFile, 'set-leader')
  stores.push(store)
  const nodeRed = new FakeNodeRed()
  const clock = o.clock ?? new FakeClock()
  const log: {event: string; [k: string]: unknown}[] = []
  const state = {running: o.running ?? false, gen: 1}
  const sync = new FlowsSync({
    replica,
    store,
    admin: nodeRed as unknown as AdminClient,
    token: 'admin-token',
    log: (event, fields) => log.push({event, ...fields}),
    clock,
    pollMs: 100,
    running: () => state.running,
    generation: () => state.gen,
  })
  return {sync, nodeRed, clock, log, state, store}
}

function commit(flows: FlowNode[], previous: FlowNode[] | null, origin: 'editor' | 'api' = 'editor', credentials: CommitRequest['credentials'] = null): CommitRequest {
  return {previousRev: previous ? flowsRev(previous) : null, rev: flowsRev(flows), flows, credentials, credentialsChanged: credentials !== null, origin}
}

describe('the flows record commit (compare-and-swap on the previous rev)', () => {
  it('the first commit creates the record; the same rev again is "current" and hands back the record\'s credentials', async () => {
    const a = agent('a', file())
    expect(await a.sync.commit(commit(Y, X, 'editor', CREDS))).toMatchObject({status: 200, body: {result: 'committed', rev: flowsRev(Y)}})
    expect(await a.sync.commit(commit(Y, X, 'api'))).toEqual({status: 200, body: {result: 'current', rev: flowsRev(Y), credentials: CREDS}})
    const stored = await a.store.read()
    expect(stored?.record).toMatchObject({rev: flowsRev(Y), replica: 'a', origin: 'editor', credentials: CREDS, credentialsChanged: true})
  })

  it('a Deploy from an editor whose flows are stale is refused with 409, naming the rev and the replica that won; nothing is written', async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db)
    await a.sync.commit(commit(Y, X))
    const answer = await b.sync.commit(commit(Z, X))
    expect(answer).toMatchObject({status: 409, body: {result: 'conflict', rev: flowsRev(Y), replica: 'a'}})
    expect((await b.store.head())?.rev).toBe(flowsRev(Y))
  })

  it('two Deploys racing from the same rev on two replicas: exactly one commits, the other is told it conflicted', async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db)
    await a.sync.commit(commit(X, null, 'api'))
    const answers = await Promise.all([a.sync.commit(commit(Y, X)), b.sync.commit(commit(Z, X))])
    expect(answers.map(x => x.status).sort()).toEqual([200, 409])
    const winner = answers[0].status === 200 ? Y : Z
    expect((await a.store.head())?.rev).toBe(flowsRev(winner))
  })

  it('ff-ha deploy (the admin token) moves the record from any rev: it checked every replica\'s rev itself', async () => {
    const db = file()
    const a = agent('a', db)
    await a.sync.commit(commit(Y, X))
    expect(await a.sync.commit(commit(Z, X, 'api'))).toMatchObject({status: 200, body: {result: 'committed'}})
  })

  it('only encrypted credentials are taken, and only from the admin token (checked by the endpoint)', () => {
    expect(parseCommit({...commit(Y, X), credentials: {node1: {password: 'plain'}}})).toMatch(/encrypted/)
    expect(parseCommit({...commit(Y, X), rev: 'nope'})).toMatch(/sha256/)
    expect(parseCommit(commit(Y, X, 'editor', CREDS))).toMatchObject({credentials: CREDS, credentialsChanged: true})
  })
})

describe('converging a replica on the record', () => {
  it('a spare behind the record gets its flows with the encrypted credentials, passing the rev it runs (Node-RED\'s own check), and may then lead', async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db)
    await a.sync.commit(commit(Y, X, 'editor', CREDS))
    await b.sync.tick()
    expect(b.sync.mayLead()).toBe(true)
    expect(b.nodeRed.rev).toBe(flowsRev(Y))
    expect(b.nodeRed.posts).toEqual([{rev: flowsRev(X), credentials: CREDS, type: 'full'}])
    expect(b.log.filter(e => e.action === 'converged')).toHaveLength(1)
    // nothing more to do at the next look
    await b.sync.tick()
    expect(b.nodeRed.posts).toHaveLength(1)
  })

  it('the edited replica is not posted to again: its own commit is what it runs', async () => {
    const a = agent('a', file())
    await a.sync.commit(commit(Y, X))
    // Node-RED is still saving: the replica reports the previous rev; the agent waits instead of posting
    await a.sync.tick()
    expect(a.nodeRed.posts).toEqual([])
    a.nodeRed.flows = Y
    await a.sync.tick()
    expect(a.nodeRed.posts).toEqual([])
    expect(a.sync.mayLead()).toBe(true)
  })

  it('a spare never may lead while behind the record: not before the store was read, not while its Node-RED is down', async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db)
    expect(b.sync.mayLead()).toBe(false)
    await b.sync.tick()
    expect(b.sync.mayLead()).toBe(true) // no record yet: nothing newer was deployed
    await a.sync.commit(commit(Y, X))
    b.nodeRed.down = true
    await b.sync.tick()
    expect(b.sync.mayLead()).toBe(false)
    b.nodeRed.down = false
    await b.sync.tick()
    expect(b.sync.mayLead()).toBe(true)
    // a restarted Node-RED is checked again before it may lead
    b.state.gen++
    expect(b.sync.mayLead()).toBe(false)
    await b.sync.tick()
    expect(b.sync.mayLead()).toBe(true)
  })

  it('a running replica takes an editor record at once (type nodes), and leaves an ff-ha deploy record to the tool for the grace', async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db, {running: true})
    await a.sync.commit(commit(Y, X))
    await b.sync.tick()
    expect(b.nodeRed.posts).toEqual([{rev: flowsRev(X), type: 'nodes'}])
    await a.sync.commit(commit(Z, Y, 'api'))
    await b.sync.tick()
    expect(b.nodeRed.posts).toHaveLength(1)
    b.clock.advance(29_000)
    await b.sync.tick()
    expect(b.nodeRed.posts).toHaveLength(1)
    b.clock.advance(1_000)
    await b.sync.tick()
    expect(b.nodeRed.rev).toBe(flowsRev(Z))
  })

  it('an edit on the replica while the agent converges it wins: Node-RED answers 409, the agent looks again', async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db)
    await a.sync.commit(commit(Y, X))
    // b's user deployed Z just before the agent's POST (the agent read X)
    const realPost = b.nodeRed.postFlows.bind(b.nodeRed)
    b.nodeRed.postFlows = async (flows, o) => {
      b.nodeRed.flows = Z
      return realPost(flows, o)
    }
    await b.sync.tick()
    expect(b.nodeRed.rev).toBe(flowsRev(Z))
    expect(b.sync.mayLead()).toBe(false)
  })

  it("a convergence whose record moved on meanwhile does not write its older rev back (it is refused, and converges again)", async () => {
    const db = file()
    const a = agent('a', db)
    const b = agent('b', db)
    await a.sync.commit(commit(Y, X))
    // while b's agent posts Y, a commits Z; b's Node-RED then commits Y (the save of the convergence)
    b.nodeRed.postFlows = async (flows: FlowNode[]) => {
      await a.sync.commit(commit(Z, Y))
      const answer = await b.sync.commit({...commit(flows, X, 'api')})
      expect(answer.status).toBe(409)
      throw new AdminError('b', 'server-error', 'HTTP 409 from the storage', 409)
    }
    await b.sync.tick()
    expect((await b.store.head())?.rev).toBe(flowsRev(Z))
  })
})
