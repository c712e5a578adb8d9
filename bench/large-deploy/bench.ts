// The largest flows file that deploys with the default timings: two real agents (hot-spare, the built-in
// profile's timings: health every 250 ms, 200 ms timeout, 3 failures), ff-ha deploy of growing flows files
// to both (the spare, then the active, which stops and starts its flows). Per size: whether it deployed,
// how long, whether an agent killed its Node-RED, the longest run of failed health checks, and the active
// Node-RED's peak RSS. Stops at the first failure. BENCH_KIND=function|mixed, BENCH_SIZES=5,10,20 (MB).
// BENCH_DEPLOY_TIMEOUTS=default: ff-ha deploy's own defaults (15 s per request, 30 s to verify), else 600 s.
import {readFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {performance} from 'node:perf_hooks'
import {deployFlows} from '../../src/deploy/deploy.js'
import {TEST_TOKEN, probeFlows, startAgents} from '../../harness/agents.js'
import {bigFlows, type BigFlowsKind} from '../../harness/big-flows.js'

const KIND = (process.env.BENCH_KIND ?? 'mixed') as BigFlowsKind
const SIZES = (process.env.BENCH_SIZES ?? '5,10,20,35,50').split(',').map(Number)
const MB = 1024 * 1024
const DEFAULT_TIMEOUTS = process.env.BENCH_DEPLOY_TIMEOUTS === 'default'

const peakRss = (pid: number | null) => {
  try {
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024)
  } catch {
    return NaN
  }
}

console.log(`large deploy bench: ${KIND} flows, sizes ${SIZES.join(', ')} MB, deploy timeouts ${DEFAULT_TIMEOUTS ? "ff-ha deploy's defaults" : '600 s'}; load average ${loadavg()[0].toFixed(1)}`)
const set = await startAgents({replicas: ['a', 'b'], sequential: true})
try {
  const active = await set.waitForActive(90_000)
  for (const size of SIZES) {
    const from = set.agents.map(a => a.events.length)
    const flows = [...probeFlows(), ...bigFlows(size * MB, `big-${size}`, KIND)]
    const bytes = Buffer.byteLength(JSON.stringify(flows))
    const t0 = performance.now()
    const report = await deployFlows({
      flows,
      replicas: set.agents.map(a => ({name: a.name, url: a.nodeRedUrl, agentUrl: a.statusUrl})),
      auth: {token: TEST_TOKEN},
      mode: 'hot-spare',
      ...(DEFAULT_TIMEOUTS ? {} : {verifyTimeoutMs: 600_000}),
      clientOptions: {...(DEFAULT_TIMEOUTS ? {} : {requestTimeoutMs: 600_000}), maxResponseBytes: 2 * bytes},
    })
    const ms = Math.round(performance.now() - t0)
    const events = set.agents.flatMap((a, i) => a.events.slice(from[i]))
    const kills = events.filter(e => e.action === 'kill').length
    const busiest = Math.max(0, ...events.filter(e => e.event === 'health' && typeof e.consecutive === 'number').map(e => e.consecutive as number))
    console.log(
      `${String(size).padStart(3)} MB (${(bytes / MB).toFixed(1)} MB, ${flows.length} nodes): ${report.ok ? 'deployed' : 'FAILED'} in ${ms} ms; kills ${kills}; ` +
        `most failed health checks in a row ${busiest}; active Node-RED peak RSS ${peakRss(active.nodeRedPid)} MB${report.ok ? '' : `; ${report.error}`}`,
    )
    for (const e of events.filter(e => e.action === 'kill' || e.event === 'node-red-exit' || e.event === 'role' || e.event === 'deploy')) console.log(`    ${e.ts} ${e.replica} ${e.event} ${JSON.stringify({...e, ts: undefined, replica: undefined, event: undefined})}`)
    if (!report.ok || kills > 0) break
  }
} finally {
  await set.stop()
}
