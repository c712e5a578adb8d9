// Deploy bench: wall time of `deployFlows` with a 1,000-node flows file to 1, 3 and 6 local Node-RED
// replicas in parallel (load-balanced, flows running), the ratio 6/1 (target <= 1.5), and ff-ha's overhead
// per replica beyond Node-RED's own deploy time (a bare POST /flows plus confirming the rev and state).
// Each figure is the median of ITERATIONS runs after one warm-up; every run deploys a new revision.
import {mkdirSync, writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {AdminClient} from '../../src/admin/client.js'
import type {FlowNode} from '../../src/admin/types.js'
import {deployFlows} from '../../src/deploy/deploy.js'
import {packageRoot} from '../../src/paths.js'
import {bigFlows} from '../../harness/deploy-flows.js'
import {startReplicas} from '../../harness/replicas.js'

const NODES = Number(process.env.BENCH_NODES ?? 1000)
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 11)
const COUNTS = [1, 3, 6]
const major = (Number(process.env.BENCH_NODE_RED ?? 4) === 5 ? 5 : 4) as 4 | 5
// BENCH_FLOWS=stopped: replicas as hot-spare spares (flows stopped, so a deploy starts nothing).
const STATE = process.env.BENCH_FLOWS === 'stopped' ? 'stop' : 'start'
const MODE = STATE === 'stop' ? 'hot-spare' : 'load-balanced'

let version = 0
const nextFlows = (): FlowNode[] => bigFlows(NODES, `v${++version}`)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
// Under load from other processes the fastest run is the best estimate of the cost itself; print both.
const min = (xs: number[]) => Math.min(...xs)

/**
 * Node-RED's own deploy, the least a client can do: POST /flows (its answer carries the new rev), then wait
 * until Node-RED is done: for running flows its runtime-deploy notification (sent once the new flows have
 * started; POST answers before that), for stopped flows GET /flows/state.
 */
async function bareDeploy(clients: AdminClient[], flows: FlowNode[]): Promise<number> {
  const t = performance.now()
  await Promise.all(clients.map(async c => {
    const {rev} = await c.postFlows(flows, {type: 'full'})
    if (STATE === 'start') await c.waitForFlowsStarted(rev, 60_000)
    else while ((await c.getFlowsState()) !== STATE) await new Promise(r => setTimeout(r, 10))
  }))
  return performance.now() - t
}

/** CPU ms that this process (the ff-ha client only: Node-RED runs in child processes) spent in deploys. */
const clientCpu = new Map<number, number[]>()

async function ffhaDeploy(cluster: Awaited<ReturnType<typeof startReplicas>>, n: number, flows: FlowNode[]): Promise<number> {
  const cpu = process.cpuUsage()
  const t = performance.now()
  const report = await deployFlows({flows, replicas: cluster.targets().slice(0, n), auth: {token: cluster.token}, mode: MODE, strategy: 'parallel', rollback: false, verifyTimeoutMs: 60_000})
  const ms = performance.now() - t
  const used = process.cpuUsage(cpu)
  clientCpu.set(n, [...(clientCpu.get(n) ?? []), (used.user + used.system) / 1000])
  if (!report.ok) throw new Error(`deploy to ${n} failed: ${report.error}`)
  return ms
}

async function main(): Promise<void> {
  process.stderr.write(`starting 6 Node-RED ${major} replicas...\n`)
  const cluster = await startReplicas(6, {major, prefix: 'bench'})
  try {
    if (STATE === 'start') await Promise.all(cluster.replicas.map(r => r.client.setFlowsState('start')))
    const clients = cluster.replicas.map(r => new AdminClient({name: r.name, url: r.url}, {auth: {token: cluster.token}}))
    const rows: Array<{replicas: number; ffhaMs: number; bareMs: number; ffhaMinMs: number; bareMinMs: number}> = []
    for (const n of COUNTS) {
      await ffhaDeploy(cluster, n, nextFlows()) // warm-up
      await bareDeploy(clients.slice(0, n), nextFlows())
      const ffha: number[] = []
      const bare: number[] = []
      // Interleaved, so that a burst of load on the machine hits both alike.
      for (let i = 0; i < ITERATIONS; i++) {
        ffha.push(await ffhaDeploy(cluster, n, nextFlows()))
        bare.push(await bareDeploy(clients.slice(0, n), nextFlows()))
      }
      rows.push({replicas: n, ffhaMs: median(ffha), bareMs: median(bare), ffhaMinMs: min(ffha), bareMinMs: min(bare)})
      process.stderr.write(`  ${n} replica(s): ff-ha ${median(ffha).toFixed(0)} ms, bare ${median(bare).toFixed(0)} ms\n`)
    }
    await Promise.all(clients.map(c => c.close()))

    const one = rows[0]
    const six = rows[rows.length - 1]
    const ratio = six.ffhaMs / one.ffhaMs
    const bareRatio = six.bareMs / one.bareMs
    const ratioMin = six.ffhaMinMs / one.ffhaMinMs
    const bareRatioMin = six.bareMinMs / one.bareMinMs
    const overhead = one.ffhaMs - one.bareMs
    const overheadMin = one.ffhaMinMs - one.bareMinMs
    const f = (x: number) => x.toFixed(0).padStart(6)
    const lines = [
      `deploy bench: ${NODES}-node flows, Node-RED ${major}, ${MODE}, parallel, flows ${STATE === 'start' ? 'running' : 'stopped'}, ${ITERATIONS} runs each, load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
      'replicas   ff-ha median / min    bare POST+confirm median / min   (ms)',
      ...rows.map(r => `${String(r.replicas).padStart(8)}   ${f(r.ffhaMs)} / ${f(r.ffhaMinMs)}      ${f(r.bareMs)} / ${f(r.bareMinMs)}`),
      `ratio 6/1 (median): ${ratio.toFixed(2)}, (min): ${ratioMin.toFixed(2)}; target <= 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'}. Node-RED alone (bare) 6/1: ${bareRatio.toFixed(2)} (median), ${bareRatioMin.toFixed(2)} (min)`,
      `overhead per replica beyond Node-RED's own deploy (1 replica, ff-ha - bare): ${overhead.toFixed(0)} ms (median), ${overheadMin.toFixed(0)} ms (min)`,
      `ff-ha client CPU per deploy (median): ${COUNTS.map(n => `${n}: ${median(clientCpu.get(n) ?? [0]).toFixed(0)} ms`).join(', ')} (what ff-ha itself costs, whatever the replicas' hosts)`,
    ]
    process.stdout.write(lines.join('\n') + '\n')
    const dir = join(packageRoot, 'bench', 'results')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, `deploy-${STATE === 'start' ? 'running' : 'stopped'}.json`), JSON.stringify({nodes: NODES, major, mode: MODE, loadavg: loadavg()[0], iterations: ITERATIONS, rows, ratio, bareRatio, ratioMin, bareRatioMin, overheadMs: overhead, overheadMinMs: overheadMin, clientCpuMs: Object.fromEntries(COUNTS.map(n => [n, median(clientCpu.get(n) ?? [0])])), target: 1.5, met: ratio <= 1.5}, null, 2) + '\n')
  } finally {
    await cluster.stop()
  }
}

await main()
