// GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=T::message`. The runner unescapes
// %25 %0D %0A in the message, and additionally %3A %2C in properties; anything else passes as is, so control
// characters from the flows (names, ids, topics) are made visible first (printable).
import {printable} from '../../flows/printable.js'
import type {LintReport, Severity} from '../types.js'
import type {ReportContext} from './index.js'

const COMMAND: Record<Severity, string> = {error: 'error', warning: 'warning', info: 'notice'}

export function escapeData(s: string): string {
  return printable(s, true).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

export function formatGithub(report: LintReport, _ctx: ReportContext): string {
  const lines: string[] = []
  for (const file of report.files) {
    for (const f of file.findings) {
      const props = [`file=${escapeProperty(file.path)}`, `line=${f.line}`, `col=${f.column}`, `title=${escapeProperty(`${f.ruleId} (${f.nodeType} ${f.nodeId})`)}`]
      lines.push(`::${COMMAND[f.severity]} ${props.join(',')}::${escapeData(f.message)}`)
    }
  }
  const {errors, warnings, infos, suppressed} = report.summary
  lines.push(`ff-ha lint flows (${report.mode}): ${errors} errors, ${warnings} warnings, ${infos} infos, ${suppressed} suppressed`)
  return lines.join('\n') + '\n'
}
