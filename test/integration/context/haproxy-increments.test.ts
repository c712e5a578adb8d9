// The proof, with real processes: three load-balanced `ff-ha agent` replicas (each its real Node-RED
// 4.1) on one shared context store, behind HAProxy with the haproxy.cfg `ff-ha render` writes. 10,000
// concurrent HTTP increments through the proxy, done by an atomic increment (a function node calling
// flow.get('$atomic').increment), end at exactly 10,000, each number handed out once. The same traffic
// through today's pattern, flow.get then flow.set, ends below: on Node-RED's memory store each replica
// counts only its own share; on the shared store the figure is printed (sqlite reads are current, so its
// losses are rare; PostgreSQL's cached reads lose more).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {probeFlows, startAgents, type AgentSet} from '../../../harness/agents.js'
import type {FlowNode} from '../../../src/admin/types.js'
import {startPostgres, type PostgresServer} from '../../../src/context/postgres-server.js'
import {Resources} from '../../../src/drill/processes.js'
import {startHaproxy} from '../../../src/drill/proxy/haproxy.js'
import {PROBE_TAB_ID} from '../../../src/drill/probe.js'
import {which} from '../../../src/drill/tools.js'
import {freePort} from '../../../src/net/free-port.js'
import {pollUntil} from '../../../src/io/poll.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {BACKENDS, POSTGRES_NOT_RUN} from './backends.js'

const HAPROXY = which('haproxy')
const HAPROXY_MISSING = HAPROXY ? null : 'haproxy not found: apt-get install -y haproxy (Debian 12: 2.6)'
if (HAPROXY_MISSING) {
  const line = `NOT RUN: the HAProxy increments proof (${HAPROXY_MISSING})`
  if (process.env.CI || process.env.FF_HA_REQUIRE_HAPROXY === '1') throw new Error(line)
  console.warn(`\n*** ${line} ***\n`)
}
if (POSTGRES_NOT_RUN) it.skip(`NOT RUN: the HAProxy increments proof on PostgreSQL (${POSTGRES_NOT_RUN})`, () => {})

const TOTAL = 10_000
const PLAIN = 3_000
const CONCURRENCY = 24
const z = PROBE_TAB_ID

function route(id: string, url: string, func: string): FlowNode[] {
  return [
    {id: `${id}_in`, type: 'http in', z, url, method: 'post', x: 100, y: 400, wires: [[`${id}_fn`]]},
    {id: `${id}_fn`, type: 'function', z, func, outputs: 1, x: 300, y: 400, wires: [['ctx_out']]},
  ]
}

const flows: FlowNode[] = [
  ...probeFlows(),
  ...route('atomic', '/inc', "msg.payload = {n: await flow.get('$atomic').increment('atomic')}\nreturn msg"),
  // today's read-modify-write, on the shared store and on Node-RED's memory store (one per replica)
  ...route('plain', '/inc-plain', "const n = (flow.get('plain') || 0) + 1\nflow.set('plain', n)\nmsg.payload = {n}\nreturn msg"),
  ...route('mem', '/inc-memory', "const n = (flow.get('mem', 'memory') || 0) + 1\nflow.set('mem', n, 'memory')\nmsg.payload = {n}\nreturn msg"),
  ...route('get', '/counters', "flow.get(['atomic', 'plain'], (err, atomic, plain) => {\n  msg.payload = err ? {error: err.message} : {atomic: atomic ?? 0, plain: plain ?? 0, memory: flow.get('mem', 'memory') || 0}\n  node.send(msg)\n})\nreturn null"),
  {id: 'ctx_out', type: 'http response', z, x: 500, y: 400, wires: []},
]

/** `total` POSTs to url, `CONCURRENCY` at a time; the numbers answered. Every request must succeed. */
async function hammer(url: string, total: number): Promise<{numbers: number[]; ms: number}> {
  const numbers: number[] = []
  const failures: string[] = []
  let next = 0
  const t0 = performance.now()
  async function client(): Promise<void> {
    while (next < total) {
      next++
      // a connection per request: a reused keep-alive connection that the proxy closes at the same moment
      // fails a request that may or may not have run, which would make "exactly" unprovable
      const res = await request(url, {method: 'POST', headers: {connection: 'close'}}).catch((e: Error) => e)
      if (res instanceof Error || res.statusCode !== 200) {
        failures.push(res instanceof Error ? `${res.message} (${(res as {code?: string}).code})` : `HTTP ${res.statusCode} ${await res.body.text()}`)
        continue
      }
      numbers.push(((await res.body.json()) as {n: number}).n)
    }
  }
  await Promise.all(Array.from({length: CONCURRENCY}, client))
  expect(failures.slice(0, 5)).toEqual([])
  return {numbers, ms: performance.now() - t0}
}

describe.skipIf(!!HAPROXY_MISSING).each(BACKENDS)('three load-balanced replicas behind HAProxy on a shared %s store', name => {
  let set: AgentSet
  let pg: PostgresServer | undefined
  let dir: string
  const resources = new Resources()
  let proxyUrl: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `ff-ha-ctx-lb-${name}-`))
    const env: Record<string, string> = {}
    let shared = '{backend: sqlite}'
    if (name === 'postgres') {
      pg = await startPostgres()
      env.FF_HA_CONTEXT_DATABASE_URL = pg.connectionString
      shared = '{backend: postgres}'
    } else env.FF_HA_CONTEXT_PATH = join(dir, 'context.db')
    // Health checks patient enough for a replica saturated by the test on a shared 2-core machine: a busy
    // event loop must not be taken for a hang (the agent would restart it, and requests in flight would fail).
    const profileText = `name: ctx-lb\nmode: load-balanced\ntarget: compose\nreplicas: 3\nnodeRed:\n  contextStorage:\n    default: shared\n    shared: ${shared}\nfailover:\n  healthIntervalMs: 3000\n  healthTimeoutMs: 3000\n  healthFailureThreshold: 10\n`
    set = await startAgents({replicas: 3, profile: profileText, flows, env, dir: join(dir, 'agents')})
    await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active', 120_000, 'active')))
    const profile = parseProfileText(profileText, 'ff-ha.yaml')
    const proxy = await startHaproxy(HAPROXY!, profile, {
      servers: set.agents.map(a => ({name: a.name, address: '127.0.0.1', port: a.nodeRedPort, checkPort: a.statusPort})),
      bindPort: await freePort(),
      dir,
      resources,
    })
    proxyUrl = proxy.url
    resources.onCleanup(() => proxy.stop())
    // every replica in the proxy's rotation: three answers from three replicas
    await pollUntil(async () => {
      const seen = new Set<string>()
      for (let i = 0; i < 12; i++) {
        const res = await fetch(proxyUrl + 'ff-ha/probe').catch(() => null)
        if (res?.status === 200) seen.add(((await res.json()) as {replica: string}).replica)
      }
      return seen.size === 3
    }, {timeoutMs: 30_000, intervalMs: 200, what: 'all three replicas answering through HAProxy'})
  }, 180_000)

  afterAll(async () => {
    await resources.cleanup()
    await set?.stop()
    pg?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it(`${TOTAL.toLocaleString('en')} concurrent increments through HAProxy end at exactly ${TOTAL.toLocaleString('en')}; get-then-set ends below`, async () => {
    const atomic = await hammer(proxyUrl + 'inc', TOTAL).catch(async err => {
      console.log('restarts', await Promise.all(set.agents.map(async a => (await a.status())?.restarts)), set.agents.flatMap(a => a.events.filter(e => /health|exit|kill/.test(e.event))).slice(0, 6))
      throw err
    })
    console.log(`[haproxy-increments ${name}] answers ${atomic.numbers.length}, distinct ${new Set(atomic.numbers).size}, max ${Math.max(...atomic.numbers)}`)
    expect(atomic.numbers.length).toBe(TOTAL)
    expect(new Set(atomic.numbers).size).toBe(TOTAL)
    expect(Math.max(...atomic.numbers)).toBe(TOTAL)
    const mem = await hammer(proxyUrl + 'inc-memory', PLAIN)
    const plain = await hammer(proxyUrl + 'inc-plain', PLAIN)
    expect(mem.numbers.length).toBe(PLAIN)
    expect(plain.numbers.length).toBe(PLAIN)
    // the counters as each replica sees them (the atomic and plain ones from the store, fresh)
    const views = await Promise.all(set.agents.map(async a => (await (await fetch(new URL('counters', a.nodeRedUrl), {method: 'POST'})).json()) as {atomic: number; plain: number; memory: number}))
    for (const v of views) expect(v.atomic).toBe(TOTAL)
    // memory: each replica counted its own share only, so no replica saw all of them
    const memoryTotal = views.reduce((s, v) => s + v.memory, 0)
    expect(memoryTotal).toBe(PLAIN)
    for (const v of views) expect(v.memory).toBeLessThan(PLAIN)
    // shared store, get-then-set: never more than sent, every lost update is visible as a repeated number
    const plainFinal = views[0].plain
    expect(plainFinal).toBeLessThanOrEqual(PLAIN)
    console.log(
      `[haproxy-increments ${name}] atomic: ${TOTAL} requests in ${(atomic.ms / 1000).toFixed(1)} s (${Math.round(TOTAL / (atomic.ms / 1000))}/s), final ${views[0].atomic}; ` +
        `get/set on memory: final per replica ${views.map(v => v.memory).join('/')} of ${PLAIN}; get/set on the shared store: final ${plainFinal} of ${PLAIN} (${PLAIN - plainFinal} lost updates, ${PLAIN - new Set(plain.numbers).size} numbers handed out twice)`,
    )
  }, 240_000)
})
