import {CheckFailedError} from '../errors.js'
import type {FlowsFile} from '../flows/parse.js'
import {lintFiles} from '../lint/engine.js'
import type {HaMode} from '../profile/schema.js'

/** Lint before deploying, for the profile's mode: refuse on errors (warnings pass), listing the first few. */
export function lintGate(file: FlowsFile, mode: HaMode): {warnings: number} {
  const report = lintFiles([file], {mode})
  if (report.summary.errors > 0) {
    const errors = report.files.flatMap(f => f.findings.map(x => ({...x, path: f.path}))).filter(f => f.severity === 'error')
    const first = errors.slice(0, 3).map(f => `${f.path}:${f.line}:${f.column} ${f.ruleId} ${f.message}`)
    const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''
    throw new CheckFailedError(
      `${file.path}: ${report.summary.errors} lint error${report.summary.errors === 1 ? '' : 's'} for ${mode}, not deployed: ${first.join('; ')}${more}`,
      `see \`ff-ha lint flows ${file.path} --mode ${mode}\`; fix them, or pass --no-lint to deploy anyway`,
    )
  }
  return {warnings: report.summary.warnings}
}
