// Typed errors that core modules throw. One place (BaseCommand) maps them to a message and an exit code:
// 0 ok, 1 findings or a failed check, 2 usage or input error. Core modules never print or exit.

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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
