import {junitXml, type JunitChild} from '../../report/junit-xml.js'
import type {DrillReport} from '../types.js'

/** JUnit XML: one testcase per scenario; a failure lists the measured figures against the SLO. */
export function drillJunit(report: DrillReport): string {
  const cases = report.scenarios.map(s => {
    const out: JunitChild = {
      tag: 'system-out',
      text: `MTTR p50 ${s.mttrMs.p50} ms, p95 ${s.mttrMs.p95} ms, max ${s.mttrMs.max} ms; http failed ${s.httpFailed}; mqtt lost ${s.mqttLost} (${s.mqttLostAfterStop} after the faulted replica stopped), duplicated ${s.mqttDuplicated}; dual-active ${s.dualActiveMs} ms`,
    }
    const children: JunitChild[] = s.skipped
      ? [{tag: 'skipped', attrs: {message: s.skipped}}]
      : s.passed
        ? [out]
        : [{tag: 'failure', attrs: {message: s.failures[0] ?? 'failed', type: 'slo'}, text: s.failures.join('\n')}, out]
    return {attrs: {name: s.name, classname: `ff-ha.failover-test.${report.target}.${report.mode}`, time: seconds(s.iterations.reduce((n, i) => n + i.mttrMs, 0))}, children}
  })
  const failures = report.scenarios.filter(s => !s.passed && !s.skipped).length
  const skipped = report.scenarios.filter(s => s.skipped).length
  const time = seconds(report.durationMs)
  return junitXml({name: 'ff-ha failover-test', tests: report.scenarios.length, failures, time}, [
    {attrs: {name: `failover-test ${report.target} ${report.mode}`, tests: report.scenarios.length, failures, skipped, timestamp: report.startedAt, time}, cases},
  ])
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3)
}

/** HTML text and attribute escaping (the drill's HTML page uses it). */
export function esc(s: string): string {
  return s.replace(/[<>&"']/g, c => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'})[c] as string)
}
