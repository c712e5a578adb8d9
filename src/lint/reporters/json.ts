// The --json / --format json contract: LintReport plus where the mode came from.
import type {LintReport} from '../types.js'
import type {ReportContext} from './index.js'

export function jsonReport(report: LintReport, ctx: ReportContext): LintReport & {modeSource: ReportContext['modeSource']} {
  return {mode: report.mode, modeSource: ctx.modeSource, files: report.files, summary: report.summary}
}

export function formatJson(report: LintReport, ctx: ReportContext): string {
  return JSON.stringify(jsonReport(report, ctx), null, 2) + '\n'
}
