import {TimeoutError} from '../errors.js'

/** One clock for every record of a drill: epoch ms with sub-ms precision, monotonic within the process. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Poll until check() returns a value (not undefined/false), or throw after timeoutMs with the message. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, message: string | (() => string), intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new TimeoutError(typeof message === 'function' ? message() : message, timeoutMs, {hint: 'see the replicas\' logs in the drill\'s directory (--keep keeps them)'})
    await sleep(intervalMs)
  }
}
