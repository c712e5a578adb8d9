// JUnit XML: one testsuite per file, one testcase per rule that ran, a failure per error or warning
// finding (infos are listed in system-out). CI systems show failures; a clean file shows passing cases.
import {printable} from '../../flows/printable.js'
import type {LintReport} from '../types.js'
import type {ReportContext} from './index.js'

export function xmlEscape(s: string): string {
  // XML 1.0 forbids most control characters even as references: show them escaped (printable), as the
  // human formats do; U+FFFE and U+FFFF are not characters in XML either.
  return printable(s, true)
    .replace(/[\ufffe\uffff]/g, c => `\\u${c.charCodeAt(0).toString(16)}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

export function formatJunit(report: LintReport, ctx: ReportContext): string {
  const ruleIds = ctx.rules.map(r => r.meta.id)
  const suites: string[] = []
  let totalTests = 0
  let totalFailures = 0
  for (const file of report.files) {
    const cases: string[] = []
    let failures = 0
    for (const id of ruleIds) {
      const found = file.findings.filter(f => f.ruleId === id)
      const failing = found.filter(f => f.severity !== 'info')
      const infos = found.filter(f => f.severity === 'info')
      failures += failing.length ? 1 : 0
      const body = failing
        .map(f => {
          const text = `${file.path}:${f.line}:${f.column} ${f.nodeType} ${f.nodeId}${f.tab ? ` on "${f.tab}"` : ''}: ${f.message}`
          return `      <failure type="${f.severity}" message="${xmlEscape(`${f.line}:${f.column} ${f.message}`)}">${xmlEscape(text)}</failure>`
        })
        .join('\n')
      const out = infos.length ? `      <system-out>${xmlEscape(infos.map(f => `${file.path}:${f.line}:${f.column} info ${f.message}`).join('\n'))}</system-out>` : ''
      const inner = [body, out].filter(Boolean).join('\n')
      cases.push(`    <testcase classname="${xmlEscape(file.path)}" name="${xmlEscape(id)}"${inner ? `>\n${inner}\n    </testcase>` : ' />'}`)
    }
    totalTests += ruleIds.length
    totalFailures += failures
    suites.push(`  <testsuite name="${xmlEscape(`ff-ha lint ${file.path}`)}" tests="${ruleIds.length}" failures="${failures}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`)
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ff-ha lint flows (${report.mode})" tests="${totalTests}" failures="${totalFailures}" errors="0">\n${suites.join('\n')}\n</testsuites>\n`
}
