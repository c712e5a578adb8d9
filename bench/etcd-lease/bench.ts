// The etcd lease bench, on a real 3-member etcd cluster on loopback (harness/etcd.ts, Debian's etcd 3.4):
// 1. the store's own costs: `rounds` holder rounds (a read, then a renewal write with its keep-alive), p50/p95/p99
//    of each, with the backend's default deadlines;
// 2. two real agents with real Node-RED on the etcd lease, default etcd timings: `runs` replica crashes (the
//    active's agent and Node-RED killed together: only the lease's expiry can tell) and `runs` graceful
//    handovers (SIGTERM: the active releases), the time from the fault to the new active's "role: active"
//    event (logged when Node-RED confirmed its flows started), and dual-active time from a 20 ms watcher.
// Host loss across network namespaces is the etcd drill's (bench/failover, etcd target).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'
import {FlowsWatcher, sleep, startAgents, type AgentProcess, type AgentSet} from '../../harness/agents.js'
import {startEtcd} from '../../harness/etcd.js'
import {etcdDeadlines, etcdLeaseBackend} from '../../src/agent/lease/backends/etcd.js'
import {EtcdLeaseStore} from '../../src/agent/lease/etcd.js'

const {values} = parseArgs({options: {runs: {type: 'string', default: '5'}, rounds: {type: 'string', default: '500'}, out: {type: 'string'}}})
const RUNS = Number(values.runs)
const ROUNDS = Number(values.rounds)

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] * 10) / 10
}
const summary = (xs: number[]) => `p50 ${pct(xs, 50)} ms, p95 ${pct(xs, 95)} ms, p99 ${pct(xs, 99)} ms, max ${pct(xs, 100)} ms`

async function storeCosts(endpoints: string[]): Promise<{read: number[]; write: number[]; round: number[]}> {
  const t = etcdLeaseBackend.defaultTimings
  const store = new EtcdLeaseStore({endpoints, prefix: '/bench/', name: 'costs', ...etcdDeadlines(t.renewDeadlineMs)})
  const read: number[] = []
  const write: number[] = []
  const round: number[] = []
  try {
    let version = await store.write({holder: 'bench', leaseDurationMs: t.leaseDurationMs, acquireTime: Date.now(), renewTime: Date.now(), transitions: 1}, null)
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now()
      const obs = await store.read()
      const t1 = performance.now()
      version = await store.write({...obs.record!, renewTime: Date.now()}, obs.version)
      const t2 = performance.now()
      if (version === null) throw new Error('a renewal conflicted with nobody else writing')
      read.push(t1 - t0)
      write.push(t2 - t1)
      round.push(t2 - t0)
    }
  } finally {
    await store.close()
  }
  return {read, write, round}
}

async function activeAndSpare(set: AgentSet): Promise<{active: AgentProcess; spare: AgentProcess}> {
  const active = await set.waitForActive(120_000)
  const spare = set.agents.find(a => a !== active)!
  await spare.waitForStatus(s => s.role === 'spare', 120_000, 'spare')
  return {active, spare}
}

async function fault(set: AgentSet, watcher: FlowsWatcher, kind: 'replica-crash' | 'graceful'): Promise<{ms: number; dualActiveMs: number}> {
  const {active, spare} = await activeAndSpare(set)
  await sleep(500)
  const from = spare.events.length
  const since = performance.now()
  const t0 = Date.now()
  if (kind === 'replica-crash') {
    const pid = active.nodeRedPid!
    active.child.kill('SIGKILL')
    process.kill(pid, 'SIGKILL')
  } else {
    active.signal('SIGTERM')
  }
  const became = await spare.waitForEvent(e => e.event === 'role' && e.role === 'active', 30_000, from)
  const ms = Date.parse(became.ts) - t0
  await sleep(400)
  const dualActiveMs = Math.round(watcher.dualActiveMs(since) * 10) / 10
  await active.exited
  active.spawn()
  await active.waitForStatus(s => s.role === 'spare', 120_000, 'back as a spare')
  return {ms, dualActiveMs}
}

async function main() {
  const t = etcdLeaseBackend.defaultTimings
  console.error(`etcd lease bench: 3-member etcd on loopback; timings lease ${t.leaseDurationMs} / renew deadline ${t.renewDeadlineMs} / retry ${t.retryPeriodMs} ms, candidates poll ${etcdLeaseBackend.candidatePollMs} ms`)
  const etcd = await startEtcd(3)
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bench-etcd-'))
  const results: Record<string, unknown> = {date: new Date().toISOString(), timings: t}
  try {
    const costs = await storeCosts(etcd.endpoints)
    results.store = {rounds: ROUNDS, read: pct(costs.read, 50), write: pct(costs.write, 50), roundP95: pct(costs.round, 95)}
    console.log(`store, ${ROUNDS} holder rounds: read ${summary(costs.read)}; renewal write ${summary(costs.write)}; round ${summary(costs.round)}`)

    const profile = `name: etcd-bench\nmode: hot-spare\ntarget: compose\nfailover:\n  lease: etcd\n  etcd:\n    endpoints: [${etcd.endpoints.join(', ')}]\n    prefix: /bench-agents/\n`
    const set = await startAgents({replicas: 2, profile, dir})
    const watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
    try {
      for (const kind of ['replica-crash', 'graceful'] as const) {
        const runs: {ms: number; dualActiveMs: number}[] = []
        for (let i = 0; i < RUNS; i++) {
          const r = await fault(set, watcher, kind)
          runs.push(r)
          console.error(`  ${kind} #${i + 1}: ${r.ms} ms, dual-active ${r.dualActiveMs} ms`)
        }
        const ms = runs.map(r => r.ms)
        results[kind] = {runs: ms, p50: pct(ms, 50), p95: pct(ms, 95), dualActiveMs: runs.map(r => r.dualActiveMs)}
        console.log(`${kind}, ${RUNS} runs (fault -> new active's flows started): p50 ${pct(ms, 50)} ms, p95 ${pct(ms, 95)} ms, max ${Math.max(...ms)} ms; dual-active ms per run: ${runs.map(r => r.dualActiveMs).join(' ')}`)
      }
    } finally {
      await watcher.stop()
      await set.stop()
    }
  } finally {
    await etcd.destroy()
    rmSync(dir, {recursive: true, force: true})
  }
  if (values.out) (await import('node:fs')).writeFileSync(values.out, JSON.stringify(results, null, 2) + '\n')
}

await main()
