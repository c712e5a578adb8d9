import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {sleep, startAgents, type AgentProcess, type AgentSet} from '../../../harness/agents.js'
import type {FlowNode} from '../../../src/admin/types.js'

// Issue #16 point 4, with real processes: three load-balanced replicas (real ff-ha agents, each with its
// real Node-RED 4, on one sqlite lease file) run the same flow: an inject every second -> ff-ha singleton
// -> POST to an HTTP counter outside the replicas. The counter sees one tick per period, from one replica,
// and still one per period after the holder's whole replica (agent and Node-RED) is killed.
//
// What is asserted (a tick is one POST the counter received):
// - steady state: every tick comes from the same replica with the same fencing token, and consecutive ticks
//   are 1 period apart (none doubled: no gap under half a period; none missed: no gap over 1.5 periods);
// - across the kill: no tick from the killed replica after the kill, the next holder's token is bigger, the
//   handover gap is at most the lease duration plus a period (and some slack for this loaded machine), and
//   never under half a period (no doubled period), and the ticks are once per period again afterwards;
// - a graceful stop (SIGTERM) of the next holder: its agent releases the singleton (after its flows stopped)
//   and the last replica acquires it sooner than the lease could expire; the two holders' ticks never
//   interleave and the token grows. (Its gap is not asserted against the period: see docs/design/singleton.md.)
// The gap itself is printed: it is the figure (expected about leaseDuration + up to one period).

const PERIOD_MS = 1000
const LEASE_MS = 2000 // the sqlite backend's default leaseDurationMs (src/agent/lease/backends/sqlite.ts)

interface Tick {
  at: number
  replica: string
  token: number
  name: string
}

function flows(counterUrl: string): FlowNode[] {
  return [
    {id: 'sgtab', type: 'tab', label: 'singleton'},
    {id: 'sgtick', type: 'inject', z: 'sgtab', name: 'every second', repeat: String(PERIOD_MS / 1000), once: false, topic: '', payload: '', payloadType: 'date', props: [{p: 'payload'}], x: 100, y: 100, wires: [['sgone']]},
    {id: 'sgone', type: 'ff-ha singleton', z: 'sgtab', name: 'ticker', x: 300, y: 100, wires: [['sgfmt']]},
    {
      id: 'sgfmt',
      type: 'function',
      z: 'sgtab',
      name: 'who',
      func: "msg.payload = {replica: env.get('FF_HA_REPLICA'), token: msg.singleton.token, name: msg.singleton.name}\nmsg.headers = {'content-type': 'application/json'}\nreturn msg",
      outputs: 1,
      x: 500,
      y: 100,
      wires: [['sgpost']],
    },
    {id: 'sgpost', type: 'http request', z: 'sgtab', name: 'counter', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: counterUrl, tls: '', persist: false, proxy: '', authType: '', senderr: false, headers: [], x: 700, y: 100, wires: [[]]},
  ]
}

/** Gaps between consecutive ticks, in ms. */
function gaps(ticks: Tick[]): number[] {
  return ticks.slice(1).map((t, i) => t.at - ticks[i].at)
}

describe('ff-ha singleton: a repeating inject on three load-balanced replicas runs once', () => {
  let set: AgentSet
  let server: Server
  const ticks: Tick[] = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', c => (body += c))
      req.on('end', () => {
        const at = performance.now()
        try {
          ticks.push({at, ...(JSON.parse(body) as Omit<Tick, 'at'>)})
        } catch {
          // a malformed tick would fail the assertions below by its absence
        }
        res.end('ok')
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tick`
    set = await startAgents({replicas: 3, profile: 'name: singleton-test\nmode: load-balanced\ntarget: compose\n', flows: flows(url)})
    await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active', 120_000, 'running flows')))
  }, 150_000)

  afterAll(async () => {
    await set?.stop()
    await new Promise(resolve => server?.close(resolve))
  })

  async function waitForTicks(n: number, since: number, timeoutMs: number): Promise<Tick[]> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const seen = ticks.filter(t => t.at >= since)
      if (seen.length >= n) return seen
      if (performance.now() > deadline) throw new Error(`only ${seen.length} of ${n} ticks in ${timeoutMs} ms; agents: ${set.agents.map(a => a.stderr.slice(-300)).join(' / ')}`)
      await sleep(100)
    }
  }

  function holderOf(t: Tick): AgentProcess {
    return set.byName(t.replica)
  }

  it('ticks once per period, all from one holder with one token', async () => {
    // The first tick may come from a replica whose inject fired while the lease was being taken: skip it.
    const first = (await waitForTicks(1, 0, 30_000))[0]
    const steady = await waitForTicks(8, first.at + 1, 30_000)
    const window = steady.slice(0, 8)
    expect(new Set(window.map(t => t.replica)).size).toBe(1)
    expect(new Set(window.map(t => t.token)).size).toBe(1)
    expect(window.every(t => t.name === 'ticker')).toBe(true)
    for (const g of gaps(window)) {
      expect(g).toBeGreaterThan(PERIOD_MS * 0.5)
      expect(g).toBeLessThan(PERIOD_MS * 1.5)
    }
    // The other replicas' agents run the singleton too, as standbys: they see the holder in the lease.
    const holder = holderOf(window[0])
    const others = set.agents.filter(a => a !== holder)
    for (const a of others) await a.waitForEvent(e => e.event === 'singleton', 100).catch(() => undefined)
    expect(holder.events.some(e => e.event === 'singleton' && e.action === 'acquired' && e.name === 'ticker')).toBe(true)
  }, 60_000)

  it('kill -9 of the holder replica: another takes the singleton within the lease time, once per period again', async () => {
    const last = ticks[ticks.length - 1]
    const victim = holderOf(last)
    // Both processes at once: the whole replica is gone (a crashed container).
    const killedAt = performance.now()
    victim.signalNodeRed('SIGKILL')
    victim.signal('SIGKILL')
    const before = ticks.filter(t => t.at < killedAt)
    const lastBefore = before[before.length - 1]
    const after = await waitForTicks(6, killedAt, 30_000)
    const next = after[0]
    const gap = next.at - lastBefore.at
    console.log(`singleton handover after kill -9 of ${victim.name}: ${Math.round(gap)} ms from the last tick of ${lastBefore.replica} (token ${lastBefore.token}) to the first of ${next.replica} (token ${next.token}); kill to first tick ${Math.round(next.at - killedAt)} ms`)

    // Nothing from the killed replica after the kill (a POST in flight at the kill may land a few ms later).
    expect(after.filter(t => t.replica === victim.name && t.at > killedAt + 200)).toEqual([])
    expect(next.replica).not.toBe(victim.name)
    expect(next.token).toBeGreaterThan(lastBefore.token)
    // No doubled period at the handover, and no more than the lease time plus a period missed.
    expect(gap).toBeGreaterThan(PERIOD_MS * 0.5)
    expect(gap).toBeLessThan(LEASE_MS + PERIOD_MS + 2000)
    // Once per period again, all from the new holder with its one token.
    const steady = after.slice(0, 6)
    expect(new Set(steady.map(t => t.replica))).toEqual(new Set([next.replica]))
    expect(new Set(steady.map(t => t.token))).toEqual(new Set([next.token]))
    for (const g of gaps(steady)) {
      expect(g).toBeGreaterThan(PERIOD_MS * 0.5)
      expect(g).toBeLessThan(PERIOD_MS * 1.5)
    }
  }, 60_000)

  it('graceful stop (SIGTERM) of the holder: its agent releases the singleton after its flows stopped, the last replica takes it without waiting for expiry', async () => {
    const last = ticks[ticks.length - 1]
    const holder = holderOf(last)
    const remaining = set.agents.filter(a => a !== holder && a.running)
    expect(remaining).toHaveLength(1)
    const heir = remaining[0]
    const stoppedAt = performance.now()
    holder.signal('SIGTERM')
    const after = await waitForTicks(3, stoppedAt, 30_000)
    await holder.exited
    const released = holder.events.find(e => e.event === 'singleton' && e.action === 'released' && e.name === 'ticker')
    expect(released).toMatchObject({reason: 'agent stopping', released: true})
    const acquired = await heir.waitForEvent(e => e.event === 'singleton' && e.action === 'acquired' && e.name === 'ticker' && Date.parse(e.ts) >= Date.parse(released!.ts), 10_000)
    // Taken over at the release, long before the lease could have expired (both agents log on this host's clock).
    const takeoverMs = Date.parse(acquired.ts) - Date.parse(released!.ts)
    expect(takeoverMs).toBeLessThan(LEASE_MS)
    // Never interleaved: every tick of the stopped holder came before the heir's first.
    const first = after.find(t => t.replica === heir.name)!
    expect(ticks.filter(t => t.replica === holder.name).every(t => t.at < first.at)).toBe(true)
    expect(first.token).toBeGreaterThan(last.token)
    expect(after.slice(after.indexOf(first)).every(t => t.replica === heir.name && t.token === first.token)).toBe(true)
    console.log(`singleton handover after SIGTERM of ${holder.name}: release to acquire ${takeoverMs} ms; last tick of ${holder.name} to first of ${heir.name} ${Math.round(first.at - last.at)} ms (SIGTERM to first tick ${Math.round(first.at - stoppedAt)} ms, including the load-balanced drain)`)
  }, 60_000)
})

// Hot-spare: the replica lease is every singleton's lease (src/agent/singletons.ts, ReplicaLeaseSingletons):
// the active's node passes, with the replica lease's token; after a failover, the new active's.
describe('ff-ha singleton in hot-spare mode: the active passes, with its lease token', () => {
  let set: AgentSet
  let server: Server
  const ticks: Tick[] = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', c => (body += c))
      req.on('end', () => {
        ticks.push({at: performance.now(), ...(JSON.parse(body) as Omit<Tick, 'at'>)})
        res.end('ok')
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tick`
    set = await startAgents({replicas: 2, profile: 'name: singleton-hs\nmode: hot-spare\ntarget: compose\n', flows: flows(url)})
    await set.waitForActive(120_000)
  }, 150_000)

  afterAll(async () => {
    await set?.stop()
    await new Promise(resolve => server?.close(resolve))
  })

  it('ticks once per period from the active, carrying its fencing token; after a failover from the new active with its token', async () => {
    const active = await set.waitForActive()
    const token = (await active.status())!.fencingToken
    const since = performance.now()
    while (ticks.filter(t => t.at >= since).length < 3) await sleep(100)
    const steady = ticks.filter(t => t.at >= since).slice(0, 3)
    expect(steady.every(t => t.replica === active.name && t.token === token)).toBe(true)
    for (const g of gaps(steady)) expect(g).toBeGreaterThan(PERIOD_MS * 0.5)

    active.signalNodeRed('SIGKILL')
    active.signal('SIGKILL')
    const killedAt = performance.now()
    const next = await set.waitForActive(30_000, active.name)
    const nextToken = (await next.status())!.fencingToken!
    expect(nextToken).toBeGreaterThan(token!)
    while (ticks.filter(t => t.at >= killedAt && t.replica === next.name).length < 2) await sleep(100)
    const after = ticks.filter(t => t.at > killedAt + 200)
    expect(after.every(t => t.replica === next.name && t.token === nextToken)).toBe(true)
  }, 90_000)
})
