// The default human format, grouped by file: `line:col  severity  message  rule`, as ESLint's stylish.
import {printable} from '../../flows/printable.js'
import type {ChalkInstance} from 'chalk'
import type {LintReport, Severity} from '../types.js'
import type {ReportContext} from './index.js'

export function formatStylish(report: LintReport, ctx: ReportContext): string {
  const c = ctx.colour
  const paint: Record<Severity, (s: string) => string> = {error: c.red, warning: c.yellow, info: c.blue}
  const out: string[] = []
  for (const file of report.files) {
    if (file.findings.length === 0) continue
    out.push(c.underline(printable(file.path)))
    // A loop, not Math.max(...list): spreading 200,000 findings as arguments overflows the stack.
    let posWidth = 0
    for (const f of file.findings) posWidth = Math.max(posWidth, `${f.line}:${f.column}`.length)
    for (const f of file.findings) {
      const where = `${f.line}:${f.column}`.padEnd(posWidth)
      const node = printable(`${f.nodeType}${f.nodeName ? ` "${f.nodeName}"` : ''} ${f.nodeId}${f.tab ? ` on "${f.tab}"` : ''}`)
      // Escaped before painting: the colours are the only escape sequences that may reach the terminal.
      out.push(`  ${c.dim(where)}  ${paint[f.severity](f.severity.padEnd(7))}  ${c.bold(node)}: ${printable(f.message)}  ${c.dim(f.ruleId)}`)
    }
    out.push('')
  }
  out.push(summaryLine(report, c))
  out.push(c.dim(modeLine(report, ctx)))
  return out.join('\n') + '\n'
}

export function summaryLine(report: LintReport, c: ChalkInstance): string {
  const {errors, warnings, infos, suppressed} = report.summary
  const total = errors + warnings + infos
  const files = report.files.length
  const parts = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${plural(infos, 'info')}`
  const sup = suppressed ? `; ${plural(suppressed, 'finding')} suppressed by ff-ha-lint-disable` : ''
  const head = total === 0 ? c.green(`no problems in ${plural(files, 'file')}`) : (errors ? c.red : c.yellow)(`${plural(total, 'problem')} (${parts}) in ${plural(files, 'file')}`)
  return `${head}${sup}`
}

export function modeLine(report: LintReport, ctx: ReportContext): string {
  if (ctx.modeSource === 'default') return `Linted for ${report.mode} mode, the stricter one (no --mode or --profile given).`
  return `Linted for ${report.mode} mode (from ${ctx.modeSource === 'profile' ? 'the profile' : '--mode'}).`
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
