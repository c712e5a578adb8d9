// The agent's half of fencing the shared context store, with real `ff-ha agent` processes and their real
// Node-RED (hot-spare, nodeRed.contextStorage: shared on a sqlite file): the active's agent raises the
// store's fence to its lease token and writes its token file before the flows start; a spare has no token;
// and an active frozen past its lease (SIGSTOP of agent and Node-RED), whose Node-RED wakes while its agent
// still sleeps, has every write refused: the shared log holds no entry of it after the new active's first.
import Database from 'better-sqlite3'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {probeFlows, sleep, startAgents, type AgentProcess, type AgentSet} from '../../../harness/agents.js'
import type {FlowNode} from '../../../src/admin/types.js'
import {startPostgres, type PostgresServer} from '../../../src/context/postgres-server.js'
import {createRequire} from 'node:module'
import {BACKENDS, POSTGRES_NOT_RUN} from './backends.js'
import {PROBE_TAB_ID} from '../../../src/drill/probe.js'

// pg has no types here; the few calls below are all this test needs of it
interface PgClient {connect(): Promise<void>; query(sql: string, args: unknown[]): Promise<{rows: Record<string, any>[]}>; end(): Promise<void>}
const pgClient = (createRequire(import.meta.url)('pg') as {Client: new (config: {connectionString: string}) => PgClient}).Client
const z = PROBE_TAB_ID

if (POSTGRES_NOT_RUN) it.skip(`NOT RUN: the agent's fence on PostgreSQL (${POSTGRES_NOT_RUN})`, () => {})
// Every 100 ms the running replica appends its name to a shared log; a refused write is counted in the
// replica's own memory store (beside the shared default), which GET /refused reports.
const writerFlows: FlowNode[] = [
  ...probeFlows(),
  {id: 'w_tick', type: 'inject', z, repeat: '0.1', once: true, topic: '', payload: '', payloadType: 'date', x: 100, y: 300, wires: [['w_fn']]},
  {
    id: 'w_fn',
    type: 'function',
    z,
    func: "try {\n  await flow.get('$atomic').append('log', env.get('FF_HA_REPLICA'))\n} catch (e) {\n  flow.set('refused', (flow.get('refused', 'memory') || 0) + 1, 'memory')\n  flow.set('refusedCode', e.code, 'memory')\n}\nreturn null",
    outputs: 1,
    x: 300,
    y: 300,
    wires: [[]],
  },
  {id: 'r_in', type: 'http in', z, url: '/refused', method: 'get', x: 100, y: 360, wires: [['r_fn']]},
  {id: 'r_fn', type: 'function', z, func: "msg.payload = {refused: flow.get('refused', 'memory') || 0, code: flow.get('refusedCode', 'memory') || null}\nreturn msg", outputs: 1, x: 300, y: 360, wires: [['r_out']]},
  {id: 'r_out', type: 'http response', z, x: 500, y: 360, wires: []},
]

let set: AgentSet
let dir: string
let pg: PostgresServer | undefined
let backend: 'sqlite' | 'postgres'
let db: string

/** The store's fence of this profile's domain and the probe's shared log, read from outside. */
async function peek(): Promise<{fence: number | null; log: string[]}> {
  if (backend === 'sqlite') {
    const d = new Database(db, {readonly: true})
    try {
      const fence = d.prepare('SELECT token FROM ffha_fence WHERE domain = ?').get('ctx-fence') as {token: number} | undefined
      const row = d.prepare('SELECT value FROM ffha_context WHERE scope = ? AND key = ?').get(z, 'log') as {value: string} | undefined
      return {fence: fence?.token ?? null, log: row ? (JSON.parse(row.value) as string[]) : []}
    } finally {
      d.close()
    }
  }
  const c = new pgClient({connectionString: pg!.connectionString})
  await c.connect()
  try {
    const fence = await c.query('SELECT token FROM ffha_fence WHERE domain = $1', ['ctx-fence'])
    const row = await c.query('SELECT value FROM ffha_context WHERE scope = $1 AND key = $2', [z, 'log'])
    return {fence: fence.rows[0] ? Number(fence.rows[0].token) : null, log: row.rows[0]?.value ? (JSON.parse(row.rows[0].value) as string[]) : []}
  } finally {
    await c.end()
  }
}
const fenceOf = async () => (await peek()).fence
const sharedLog = async () => (await peek()).log

const tokenFile = (a: AgentProcess) => join(a.userDir, '.ff-ha-context-token')

describe.each(BACKENDS)('ff-ha agent fences the shared context store (hot-spare, %s)', name => {
  beforeAll(async () => {
    backend = name
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-ctx-fence-'))
    db = join(dir, 'context.db')
    if (name === 'postgres') pg = await startPostgres()
  })

  afterAll(async () => {
    await set?.stop()
    pg?.stop()
    pg = undefined
    rmSync(dir, {recursive: true, force: true})
  })

  it('the active raised the fence to its token and holds the token file; the spare has none; a frozen old active is refused', async () => {
    set = await startAgents({
      replicas: 2,
      profile: `name: ctx-fence\nmode: hot-spare\ntarget: compose\nnodeRed:\n  contextStorage:\n    default: shared\n    shared: {backend: ${name}}\n`,
      flows: writerFlows,
      env: name === 'sqlite' ? {FF_HA_CONTEXT_PATH: db} : {FF_HA_CONTEXT_DATABASE_URL: pg!.connectionString},
      dir,
      sequential: true,
    })
    const old = await set.waitForActive(90_000)
    const spare = set.agents.find(a => a !== old)!
    await spare.waitForStatus(s => s.role === 'spare', 60_000, 'spare')
    const oldToken = (await old.status())!.fencingToken!
    expect(readFileSync(tokenFile(old), 'utf8').trim()).toBe(String(oldToken))
    expect(existsSync(tokenFile(spare))).toBe(false)
    expect(await fenceOf()).toBe(oldToken)
    await expect.poll(async () => (await sharedLog()).length, {timeout: 10_000}).toBeGreaterThan(3)
    expect(new Set(await sharedLog())).toEqual(new Set([old.name]))

    // Freeze the whole active; the spare takes over once the lease expires.
    old.signal('SIGSTOP')
    old.signalNodeRed('SIGSTOP')
    try {
      const next = await set.waitForActive(30_000, old.name)
      expect(next).toBe(spare)
      const newToken = (await next.status())!.fencingToken!
      expect(newToken).toBeGreaterThan(oldToken)
      expect(await fenceOf()).toBe(newToken)
      expect(readFileSync(tokenFile(next), 'utf8').trim()).toBe(String(newToken))
      await expect.poll(async () => (await sharedLog()).includes(next.name), {timeout: 10_000}).toBe(true)
      // Wake the old Node-RED alone: its agent still sleeps, so nothing stops its flows, and its token file
      // still holds the old token. Its writer keeps trying, every 100 ms.
      old.signalNodeRed('SIGCONT')
      await sleep(1500)
      const refused = (await (await fetch(new URL('refused', old.nodeRedUrl))).json()) as {refused: number; code: string | null}
      expect(refused.refused).toBeGreaterThan(3)
      expect(refused.code).toBe('FF_HA_FENCED')
    } finally {
      old.signal('SIGCONT')
      old.signalNodeRed('SIGCONT')
    }
    // The old active fences itself once its agent wakes; its token file goes.
    await old.waitForStatus(s => s.role !== 'active', 30_000, 'not active')
    await expect.poll(() => existsSync(tokenFile(old)), {timeout: 10_000}).toBe(false)
    const log = await sharedLog()
    const firstNew = log.indexOf(spare.name)
    expect(firstNew).toBeGreaterThan(0)
    // no write of the old active after the new one's first
    expect(log.slice(firstNew).filter(r => r === old.name)).toEqual([])
    console.log(`[agent-fencing ${name}] tokens ${oldToken} -> ${(await spare.status())!.fencingToken}; log: ${firstNew} entries of ${old.name}, then ${log.length - firstNew} of ${spare.name}`)
  }, 150_000)
})
