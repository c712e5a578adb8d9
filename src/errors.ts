// Typed errors that core modules throw. One place (BaseCommand) maps them to a message and an exit code:
// 0 ok, 1 findings or a failed check, 2 usage or input error. Core modules never print or exit.
// Every throw in src is one of these (eslint.config.js forbids a bare `new Error`): InputError (the user's
// file, flag or profile: exit 2), CheckFailedError (a check ran and failed: exit 1), RemoteError (a replica
// or a tool failed or was not reached: exit 1) and their subclasses that carry data, and BugError (our own
// fault: the only one printed as "internal error, please report it"). Model: Shopify CLI's AbortError/BugError.

export type ExitCode = 0 | 1 | 2

export class FfHaError extends Error {
  readonly exitCode: ExitCode
  /** What the user can do next, printed after the message. */
  readonly hint?: string

  constructor(message: string, exitCode: ExitCode, hint?: string) {
    super(message)
    this.name = new.target.name
    this.exitCode = exitCode
    this.hint = hint
  }
}

/** The user's input is wrong: a file, a flag, the profile. Exit 2. */
export class InputError extends FfHaError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint)
  }
}

/** A check ran and failed: lint errors, drift, an SLO missed, a deploy that did not converge. Exit 1. */
export class CheckFailedError extends FfHaError {
  constructor(message: string, hint?: string) {
    super(message, 1, hint)
  }
}

/** A replica or an external tool (haproxy, mosquitto, docker, kubectl) failed or could not be reached. Exit 1. */
export class RemoteError extends FfHaError {
  readonly replica?: string
  constructor(message: string, options: {replica?: string; hint?: string} = {}) {
    super(message, 1, options.hint)
    this.replica = options.replica
  }
}

/**
 * Our own fault: an invariant of ff-ha broke (a template lost its marker, a caller broke a contract). Never
 * for a user's mistake or a remote failure. Printed as "internal error, please report it", with the message
 * and the ff-ha version to put in the report. Exit 1.
 */
export class BugError extends FfHaError {
  constructor(message: string) {
    super(message, 1, 'this is a bug in ff-ha: please report it with this message (FF_HA_DEBUG=1 shows the stack)')
  }
}

/** Something we waited for (a port, a replica, a tool) did not happen in time. Carries how long we waited. Exit 1. */
export class TimeoutError extends RemoteError {
  readonly timeoutMs: number
  constructor(message: string, timeoutMs: number, options: {replica?: string; hint?: string} = {}) {
    super(message, options)
    this.timeoutMs = timeoutMs
  }
}

/** A tool ff-ha runs (Node-RED, haproxy, mosquitto, ip, docker) is not installed where we look. Exit 1. */
export class MissingToolError extends RemoteError {
  readonly tool: string
  constructor(tool: string, message: string, hint: string) {
    super(message, {hint})
    this.tool = tool
  }
}

/**
 * A check that ran to the end and failed, with its report (a deploy that did not converge): `--json` prints
 * the report inside the one error shape ({error: {message, exitCode, hint, report}}); without --json the
 * report's text goes to stdout as on success, the message and hint to stderr. Exit 1.
 */
export class ReportedCheckFailedError<R = unknown> extends CheckFailedError {
  readonly report: R
  readonly text?: string
  constructor(message: string, options: {report: R; text?: string; hint?: string}) {
    super(message, options.hint)
    this.report = options.report
    this.text = options.text
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
