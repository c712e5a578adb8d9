// bench/failover/deploy-handover: what clients see during a hot-spare deploy, in place (the active's flows
// restarted) against by handover (the lease handed to an updated spare), beside a graceful failover (the
// brief's yardstick), on the local target: two agents with real Node-RED, the sqlite lease, HAProxy with the
// rendered config, Mosquitto, HTTP at 50 req/s and MQTT QoS 1 at 50 msg/s, the bundled example flows.
// "error ms" is failed requests x 20 ms (50 req/s): the time clients were failed, as the goal counts it.
// Usage: node bench/failover/deploy-handover.js [--iterations 10] [--rate 50]
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {resolveFlows} from '../../src/drill/failover-test.js'
import {runDrill} from '../../src/drill/run.js'
import type {DrillReport, ScenarioName} from '../../src/drill/types.js'
import type {DeployStrategy} from '../../src/modes/index.js'
import {parseProfileText} from '../../src/profile/load.js'

const {values} = parseArgs({options: {iterations: {type: 'string', default: '10'}, rate: {type: 'string', default: '50'}}})
const iterations = Number(values.iterations)
const rate = Number(values.rate)
const text = 'name: bench-ho\nmode: hot-spare\nslo:\n  maxLostMessages: 100000\n  maxDualActiveMs: 100000\n'
const {flows} = resolveFlows(undefined)

const runs: {label: string; strategy: DeployStrategy; scenarios: ScenarioName[]}[] = [
  {label: 'handover', strategy: 'handover', scenarios: ['graceful', 'deploy']},
  {label: 'in-place', strategy: 'in-place', scenarios: ['deploy']},
]
const rows: string[] = []
const raw: Record<string, unknown> = {}
for (const run of runs) {
  const t0 = Date.now()
  const log = (line: string) => process.stderr.write(`[${run.label} +${Math.round((Date.now() - t0) / 1000)}s] ${line}\n`)
  const report: DrillReport = await runDrill({profile: parseProfileText(text), profileText: text, flows, target: 'local', scenarios: run.scenarios, iterations, mqtt: true, rate, proxy: 'haproxy', baseline: false, deployStrategy: run.strategy, log})
  raw[run.label] = report.scenarios.map(s => ({name: s.name, iterations: s.iterations}))
  for (const s of report.scenarios) {
    const failed = s.iterations.map(i => i.httpFailed).sort((a, b) => a - b)
    const unavailable = s.iterations.map(i => i.unavailableMs).sort((a, b) => a - b)
    const q = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN)
    const name = s.name === 'deploy' ? `deploy ${run.label}` : s.name
    const dual = Math.max(0, ...s.iterations.map(i => i.dualActiveMs))
    rows.push(`${name.padEnd(18)} ${String(s.iterations.length).padStart(4)}  ${String(q(failed, 0.5)).padStart(6)} ${String(q(failed, 0.95)).padStart(5)} ${String(failed.at(-1)).padStart(5)}  ${String(Math.round((q(failed, 0.5) * 1000) / rate)).padStart(7)} ms  ${String(Math.round(q(unavailable, 0.5))).padStart(6)} ms  ${String(s.mqttLost).padStart(5)}  ${String(dual).padStart(6)} ms`)
  }
}
const out = [
  `hot-spare deploy, ${iterations} iterations each, HTTP ${rate} req/s + MQTT QoS 1 through HAProxy (local target, example flows)`,
  'scenario           runs  failed p50   p95   max  error ms p50  unavailable p50  mqtt lost  dual-active max',
  ...rows,
]
console.log(out.join('\n'))
writeFileSync(join('bench', 'failover', 'last-run-deploy-handover.json'), JSON.stringify(raw, null, 2))
