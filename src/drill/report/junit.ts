import type {DrillReport} from '../types.js'

/** JUnit XML: one testcase per scenario; a failure lists the measured figures against the SLO. */
export function drillJunit(report: DrillReport): string {
  const cases = report.scenarios.map(s => {
    const attrs = `name="${esc(s.name)}" classname="ff-ha.failover-test.${report.target}.${report.mode}" time="${seconds(s.iterations.reduce((n, i) => n + i.mttrMs, 0))}"`
    const props = `<system-out>${esc(`MTTR p50 ${s.mttrMs.p50} ms, p95 ${s.mttrMs.p95} ms, max ${s.mttrMs.max} ms; http failed ${s.httpFailed}; mqtt lost ${s.mqttLost} (${s.mqttLostAfterStop} after the faulted replica stopped), duplicated ${s.mqttDuplicated}; dual-active ${s.dualActiveMs} ms`)}</system-out>`
    if (s.skipped) return `    <testcase ${attrs}>\n      <skipped message="${esc(s.skipped)}"/>\n    </testcase>`
    if (!s.passed) return `    <testcase ${attrs}>\n      <failure message="${esc(s.failures[0] ?? 'failed')}" type="slo">${esc(s.failures.join('\n'))}</failure>\n      ${props}\n    </testcase>`
    return `    <testcase ${attrs}>\n      ${props}\n    </testcase>`
  })
  const failures = report.scenarios.filter(s => !s.passed && !s.skipped).length
  const skipped = report.scenarios.filter(s => s.skipped).length
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ff-ha failover-test" tests="${report.scenarios.length}" failures="${failures}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="failover-test ${esc(report.target)} ${esc(report.mode)}" tests="${report.scenarios.length}" failures="${failures}" skipped="${skipped}" timestamp="${esc(report.startedAt)}" time="${seconds(report.durationMs)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3)
}

export function esc(s: string): string {
  return s.replace(/[<>&"']/g, c => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'})[c] as string)
}
