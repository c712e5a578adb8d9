// When to restart Node-RED after it exits or is killed, and when that has become a crash loop. Pure: the
// agent passes monotonic times in. A child that stayed up for stableMs clears the record.

export interface RestartPolicyOptions {
  baseDelayMs: number
  maxDelayMs: number
  /** This many failures in a row (none stable) is a crash loop. */
  crashLoopAfter: number
  /** A child that ran this long counts as stable. */
  stableMs: number
}

// The first restart waits 500 ms: a booting Node-RED takes a core for seconds, and right after a failure
// the spare is starting its flows on the same machine (a container's CPU share, or this host). The takeover
// goes first; the failed replica is back as a spare a moment later.
export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {baseDelayMs: 500, maxDelayMs: 10_000, crashLoopAfter: 5, stableMs: 5000}

export interface RestartDecision {
  delayMs: number
  /** Failures in a row, this one included. */
  consecutive: number
  /** True from the failure that makes it a loop until a stable run. */
  crashLoop: boolean
  /** True only at the failure that first makes it a loop (log it once). */
  newlyCrashLooping: boolean
}

export class RestartPolicy {
  private consecutive = 0
  private looping = false

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** A copy to change: the supervisor's machine keeps its states as values. */
  clone(): RestartPolicy {
    const copy = new RestartPolicy(this.options)
    copy.consecutive = this.consecutive
    copy.looping = this.looping
    return copy
  }

  get crashLooping(): boolean {
    return this.looping
  }

  /** A child failed after running for ranMs. */
  failed(ranMs: number): RestartDecision {
    if (ranMs >= this.options.stableMs) {
      this.consecutive = 0
      this.looping = false
    }
    this.consecutive++
    const delayMs = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (this.consecutive - 1))
    const wasLooping = this.looping
    this.looping = this.consecutive >= this.options.crashLoopAfter
    return {delayMs, consecutive: this.consecutive, crashLoop: this.looping, newlyCrashLooping: this.looping && !wasLooping}
  }

  /** The child has been up and healthy for stableMs: forget the earlier failures. */
  stable(): void {
    this.consecutive = 0
    this.looping = false
  }
}

/** An exit in words (zx style): "exited with code 1", "was killed by SIGKILL". */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal) {
    const what: Record<string, string> = {SIGKILL: 'killed (SIGKILL)', SIGTERM: 'terminated (SIGTERM)', SIGSEGV: 'crashed (SIGSEGV)', SIGABRT: 'aborted (SIGABRT)', SIGINT: 'interrupted (SIGINT)'}
    return `was ${what[signal] ?? `stopped by ${signal}`}`
  }
  if (code === 127) return 'exited with code 127 (command not found)'
  if (code === 126) return 'exited with code 126 (not executable)'
  if (code === 137) return 'exited with code 137 (killed, perhaps out of memory)'
  return `exited with code ${code}`
}
