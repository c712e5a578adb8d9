import type {DrillReport, Summary} from '../types.js'

/** The human table for stdout. Plain text: it is data, and CI logs keep it readable. */
export function drillTable(report: DrillReport): string {
  const head = ['scenario', 'runs', 'MTTR p50', 'p95', 'max', 'detect p50', 'vs cold', 'http fail', 'mqtt lost (after stop)', 'dup', 'dual-active', 'result']
  const rows = report.scenarios.map(s =>
    s.skipped
      ? [s.name, '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', `skipped: ${s.skipped}`]
      : [
          s.name,
          String(s.iterations.length),
          ms(s.mttrMs.p50),
          ms(s.mttrMs.p95),
          ms(s.mttrMs.max),
          ms(s.detectionMs.p50),
          s.ratioToColdStart === null ? '-' : `${s.ratioToColdStart.toFixed(2)}x`,
          String(s.httpFailed),
          report.broker.startsWith('off') ? '-' : `${s.mqttLost} (${s.mqttLostAfterStop})`,
          report.broker.startsWith('off') ? '-' : String(s.mqttDuplicated),
          `${s.dualActiveMs} ms`,
          s.passed ? 'pass' : 'FAIL',
        ],
  )
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  const out = [
    `ff-ha failover-test: target ${report.target}, mode ${report.mode}, proxy ${report.proxy}, broker ${report.broker}${report.lease ? `, lease ${report.lease}` : ''}`,
    `cold start (spawn to serving, same flows): ${report.baseline.coldStartMs === null ? 'not measured' : `${report.baseline.coldStartMs} ms`}`,
    '',
    line(head),
    ...rows.map(line),
  ]
  out.push('', ...faultClassLines(report))
  // hot-spare with the shared context store: the fence's proof, per iteration
  const fenced = report.scenarios.flatMap(s => s.iterations.filter(i => i.sharedContext).map(i => `  ${s.name} #${i.iteration}: ${i.sharedContext!.writes} writes, ${i.sharedContext!.staleWrites} of ${i.faulted} after the new active's first, ${i.sharedContext!.refused} refused by the fence`))
  if (fenced.length) out.push('', 'shared context (the probe\'s fenced writes):', ...fenced)
  const failures = report.scenarios.flatMap(s => s.failures.map(f => `  ${s.name}: ${f}`))
  if (failures.length) out.push('', 'SLO missed:', ...failures)
  const notes = report.scenarios.flatMap(s => s.iterations.flatMap(i => i.notes.map(n => `  ${s.name} #${i.iteration}: ${n}`)))
  if (notes.length) out.push('', 'notes:', ...notes)
  out.push('', report.passed ? 'passed' : 'FAILED')
  return out.join('\n')
}

/** Every fault class on this target: ran, skipped here (why), not requested, or cannot run on it (why). */
export function faultClassLines(report: DrillReport): string[] {
  const width = Math.max(...report.faultClasses.map(c => c.name.length))
  return [`fault classes on the ${report.target} target:`, ...report.faultClasses.map(c => `  ${c.name.padEnd(width)}  ${c.status}${c.why ? `: ${c.why}` : ''}`)]
}

function ms(v: Summary['p50']): string {
  return v === null ? '-' : `${Math.round(v)} ms`
}
