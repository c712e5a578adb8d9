// bench/failover: >= 20 iterations of every scenario on the local target with the default local timings
// (sqlite lease 2 s / renew 1.5 s / retry 200 ms; health 250 ms x 3), HTTP at 50 req/s and MQTT QoS 1 at
// 50 msg/s through HAProxy (the rendered config) and Mosquitto. Prints p50 / p95 / max MTTR as clients
// see it beside the cold start of the same Node-RED with the same flows, the ratio, and the targets.
// Usage: npm run bench:failover [-- --iterations 20 --scenarios crash,hang,... --modes hot-spare,load-balanced]
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {drillHtml} from '../../src/drill/report/html.js'
import {drillJson} from '../../src/drill/report/json.js'
import {runDrill} from '../../src/drill/run.js'
import {resolveFlows} from '../../src/drill/failover-test.js'
import type {DrillReport, ScenarioName} from '../../src/drill/types.js'
import {parseProfileText} from '../../src/profile/load.js'
import {DEFAULT_TIMINGS} from '../../src/profile/defaults.js'

const {values} = parseArgs({options: {iterations: {type: 'string', default: '20'}, scenarios: {type: 'string'}, modes: {type: 'string', default: 'hot-spare,load-balanced'}, out: {type: 'string', default: join('bench', 'failover', 'last-run.json')}}})
const iterations = Number(values.iterations)
const lease = DEFAULT_TIMINGS.sqlite.leaseDurationMs
// generous SLOs: the bench reports figures against its own targets, it does not gate
// slo.maxMttrMs stays at its default: the rendered HAProxy check interval derives from it (maxMttrMs / 50,
// 100 ms..2 s), so a relaxed MTTR here would slow the very checks the bench measures.
const profileText = (mode: string) => `name: bench-${mode === 'hot-spare' ? 'hs' : 'lb'}\nmode: ${mode}\nslo:\n  maxLostMessages: 100000\n  maxDualActiveMs: 100000\n`
const {flows} = resolveFlows(undefined)

const runs: DrillReport[] = []
for (const mode of values.modes!.split(',')) {
  const scenarios = (values.scenarios ?? (mode === 'hot-spare' ? 'crash,hang,freeze,graceful,deploy,partition' : 'crash,graceful,deploy')).split(',') as ScenarioName[]
  const text = profileText(mode)
  const t0 = Date.now()
  const report = await runDrill({
    profile: parseProfileText(text),
    profileText: text,
    flows,
    target: 'local',
    scenarios,
    iterations,
    mqtt: true,
    rate: 50,
    log: line => process.stderr.write(`[${mode} +${Math.round((Date.now() - t0) / 1000)}s] ${line}\n`),
  })
  runs.push(report)
  writeFileSync(join('bench', 'failover', `last-run-${mode}.html`), drillHtml(report))
}

const targets: Record<string, (s: DrillReport['scenarios'][number], r: DrillReport) => string> = {
  crash: s => `p50 < 300 ms: ${verdict((s.mttrMs.p50 ?? Infinity) < 300)}; ratio < 0.35: ${verdict((s.ratioToColdStart ?? Infinity) < 0.35)}`,
  hang: s => `p50 < 1500 ms: ${verdict((s.mttrMs.p50 ?? Infinity) < 1500)}`,
  freeze: s => `p50 < lease + 500 = ${lease + 500} ms: ${verdict((s.mttrMs.p50 ?? Infinity) < lease + 500)}; wake-up overlap < 50 ms: ${verdict(Math.max(0, ...s.iterations.map(i => i.dualActiveMs)) < 50)}`,
  deploy: (s, r) => (r.mode === 'load-balanced' ? `rolling deploy, 0 failed requests: ${verdict(s.httpFailed === 0)}` : `${s.httpFailed} failed requests`),
}
const lines: string[] = []
for (const r of runs) {
  lines.push(`\n${r.mode}: proxy ${r.proxy}, broker ${r.broker}, cold start ${r.baseline.coldStartMs} ms, ${iterations} iterations each`)
  lines.push('scenario     MTTR p50    p95     max   detect p50  ratio  http failed  mqtt lost (after stop)  dual-active max  target')
  for (const s of r.scenarios) {
    if (s.skipped) {
      lines.push(`${s.name.padEnd(10)} skipped: ${s.skipped}`)
      continue
    }
    const dualMax = Math.max(0, ...s.iterations.map(i => i.dualActiveMs))
    const target = targets[s.name]?.(s, r) ?? (dualMax === 0 ? 'zero dual-active: met' : 'zero dual-active: MISSED')
    lines.push(
      `${s.name.padEnd(10)} ${ms(s.mttrMs.p50)} ${ms(s.mttrMs.p95)} ${ms(s.mttrMs.max)} ${ms(s.detectionMs.p50)}   ${String(s.ratioToColdStart ?? '-').padStart(5)}  ${String(s.httpFailed).padStart(11)}  ${`${s.mqttLost} (${s.mqttLostAfterStop})`.padStart(22)}  ${`${dualMax} ms`.padStart(15)}  ${target}${s.iterations.length < iterations ? `  [only ${s.iterations.length} iterations: ${s.failures.join('; ')}]` : ''}`,
    )
  }
}
process.stdout.write(lines.join('\n') + '\n')
writeFileSync(values.out!, JSON.stringify({date: new Date().toISOString(), iterations, runs: runs.map(drillJson)}, null, 2) + '\n')
process.stderr.write(`\nwrote ${values.out} and bench/failover/last-run-<mode>.html\n`)

function ms(v: number | null): string {
  return (v === null ? '-' : `${Math.round(v)} ms`).padStart(8)
}
function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED'
}
