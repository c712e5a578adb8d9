import {setTimeout as sleep} from 'node:timers/promises'
import {TimeoutError} from '../errors.js'

// One wait loop for the whole code base (drill, deploy verify, Node-RED launch, cold start): every "ask
// again until it says yes" goes through here, so that a timeout is always the same typed error that
// names what it waited for, instead of each loop's own `throw new Error` (which surfaced as "internal
// error"). It lives in io/ beside the other small I/O helpers because drill, deploy and nodered all use it.

/** A wait gave up: `waitedFor` names what never happened (a replica ready, a port open, a rev reported). */
export class PollTimeoutError extends TimeoutError {
  readonly waitedFor: string
  constructor(waitedFor: string, timeoutMs: number, detail?: string, options: {replica?: string; hint?: string} = {}) {
    super(`${waitedFor}: not within ${formatMs(timeoutMs)}${detail ? ` (${detail})` : ''}`, timeoutMs, options)
    this.waitedFor = waitedFor
  }
}

export interface PollOptions {
  timeoutMs: number
  /** What is awaited, as a phrase for the timeout message: "node-red-1 ready", "127.0.0.1:1883 accepting connections". */
  what: string
  /** Pause between two checks (default 20 ms). */
  intervalMs?: number
  /** Extra words for the timeout message, read when it happens (the last answer, a process's last lines). */
  detail?: () => string | undefined
  /** The replica the wait is about, carried by the error. */
  replica?: string
  hint?: string
}

/**
 * Call check() until it returns a value (anything but undefined or false) and return that value; after
 * timeoutMs throw PollTimeoutError. check() may throw to stop the wait at once (a process that exited):
 * that error propagates unchanged. At least one check runs, even with a timeout of 0.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() >= deadline) throw new PollTimeoutError(options.what, options.timeoutMs, options.detail?.(), {replica: options.replica, hint: options.hint})
    await sleep(Math.min(options.intervalMs ?? 20, Math.max(1, deadline - Date.now())))
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}
