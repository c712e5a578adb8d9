import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'
import type {DeployReport} from './deploy/types.js'
import {BugError, FfHaError, ReportedCheckFailedError, type ExitCode} from './errors.js'
import {colour} from './output/colour.js'
import {redact} from './output/secrets.js'
import {ENV} from './model/env.js'

/** What a command's core call produced: the data for --json and stdout, and the exit code it earns. */
export interface CommandResult<T = unknown> {
  /** The documented --json shape. */
  json: T
  /** Human output for stdout when --json is off (data tables, reports). Omit to print nothing. */
  text?: string
  /** 0 ok, 1 findings or a failed check. Input errors are thrown, not returned. */
  exitCode: 0 | 1
}

/** What --json prints when a command fails with an error (exit 1 or 2), instead of its report: one shape for all. */
export interface ErrorJson {
  error: {
    message: string
    exitCode: ExitCode
    hint?: string
    /** A check that ran to the end and failed carries its report: a failed deploy, its deploy report (ok false). */
    report?: DeployReport
  }
}

// One base command for all: --json, exit codes, errors without stack traces (FF_HA_DEBUG=1 shows them).
// We declare --json ourselves instead of oclif's enableJsonFlag: @oclif/core 4 drops this.error's exit
// code when --json is on, and we want the JSON error object and the right code both.
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({description: 'Print the result as JSON on stdout (a documented shape).', default: false}),
  }

  protected jsonMode = false

  /** Parse flags and args, call one core function, return its result. */
  protected abstract execute(): Promise<CommandResult>

  async run(): Promise<void> {
    this.jsonMode = this.argv.includes('--json')
    const result = await this.execute()
    if (this.jsonMode) process.stdout.write(redact(JSON.stringify(result.json, null, 2)) + '\n')
    else if (result.text) process.stdout.write(redact(result.text).replace(/\n?$/, '\n'))
    setExitCode(result.exitCode)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    const described = describeError(err)
    const {message, code} = described
    // Our own fault: say which build, so that the report can be acted on.
    const hint = described.internal ? `${described.hint} (ff-ha ${this.config.version}, Node ${process.version})` : described.hint
    if (process.env[ENV.debug] === '1' && err.stack) process.stderr.write(redact(err.stack) + '\n')
    const report = err instanceof ReportedCheckFailedError ? err : undefined
    if (this.jsonMode) {
      const json: ErrorJson = {error: {message, exitCode: code, ...(hint ? {hint} : {}), ...(report ? {report: report.report as DeployReport} : {})}}
      process.stdout.write(redact(JSON.stringify(json, null, 2)) + '\n')
    } else if (report?.text) {
      process.stdout.write(redact(report.text).replace(/\n?$/, '\n'))
    }
    process.stderr.write(`${colour.red('error')} ${message}\n`)
    if (hint) process.stderr.write(`${colour.dim('hint')}  ${redact(hint)}\n`)
    setExitCode(code)
  }
}

const FS_INPUT_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS', 'ELOOP', 'ENAMETOOLONG', 'EEXIST'])

function setExitCode(code: ExitCode): void {
  // The only place that decides the process's exit status. Never process.exit: let stdout drain.
  process.exitCode = code
}

const REPORT_IT = 'this is a bug in ff-ha: please report it with this message (FF_HA_DEBUG=1 shows the stack)'

export function describeError(err: Error & {oclif?: {exit?: number}}): {message: string; code: ExitCode; hint?: string; internal?: boolean} {
  if (err instanceof BugError) return {message: `internal error, please report it: ${redact(err.message)}`, code: 1, hint: REPORT_IT, internal: true}
  if (err instanceof FfHaError) return {message: redact(err.message), code: err.exitCode, hint: err.hint}
  // oclif's own parse errors (unknown flag, missing arg, bad option): a usage error, exit 2, one line.
  if (err instanceof Errors.CLIError || err.oclif?.exit !== undefined) {
    const first = redact(err.message).split('\n').map(s => s.trim()).filter(Boolean)
    return {message: first.join(' '), code: 2, hint: 'run with --help to see the flags'}
  }
  // A file-system error that reached here unexplained is still about a path the user gave: exit 2, with a hint.
  const code = (err as {code?: string}).code
  if (code && FS_INPUT_CODES.has(code)) return {message: redact(err.message), code: 2, hint: 'check the path and its permissions'}
  // Anything else escaped the typed errors: also our fault.
  return {message: `internal error, please report it: ${redact(err.message)}`, code: 1, hint: REPORT_IT, internal: true}
}
