// JUnit XML: one testsuite per file, one testcase per rule that ran, a failure per error or warning
// finding (infos are listed in system-out). CI systems show failures; a clean file shows passing cases.
import {junitXml, type JunitChild, type JunitSuite} from '../../report/junit-xml.js'
import type {LintReport} from '../types.js'
import type {ReportContext} from './index.js'

export function formatJunit(report: LintReport, ctx: ReportContext): string {
  const ruleIds = ctx.rules.map(r => r.meta.id)
  let totalFailures = 0
  const suites: JunitSuite[] = report.files.map(file => {
    let failures = 0
    const cases = ruleIds.map(id => {
      const found = file.findings.filter(f => f.ruleId === id)
      const failing = found.filter(f => f.severity !== 'info')
      const infos = found.filter(f => f.severity === 'info')
      failures += failing.length ? 1 : 0
      const children: JunitChild[] = failing.map(f => ({
        tag: 'failure',
        attrs: {type: f.severity, message: `${f.line}:${f.column} ${f.message}`},
        text: `${file.path}:${f.line}:${f.column} ${f.nodeType} ${f.nodeId}${f.tab ? ` on "${f.tab}"` : ''}: ${f.message}`,
      }))
      if (infos.length) children.push({tag: 'system-out', text: infos.map(f => `${file.path}:${f.line}:${f.column} info ${f.message}`).join('\n')})
      return {attrs: {classname: file.path, name: id}, children}
    })
    totalFailures += failures
    return {attrs: {name: `ff-ha lint ${file.path}`, tests: ruleIds.length, failures, errors: 0, skipped: 0}, cases}
  })
  return junitXml({name: `ff-ha lint flows (${report.mode})`, tests: ruleIds.length * report.files.length, failures: totalFailures, errors: 0}, suites)
}
