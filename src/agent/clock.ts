import {performance} from 'node:perf_hooks'

/** A timer set on a Clock; cancel() is a no-op once it fired. */
export interface Timer {
  cancel(): void
}

/**
 * Two readings and timers, after client-go's clock.Clock: monotonic for every decision, wall only for
 * records and logs. Everything the supervisor waits for goes through after(), so that a test drives it
 * with a fake clock (test/unit/agent/fakes.ts) and no real time passes.
 */
export interface Clock {
  /** Monotonic ms; keeps counting while the process is stopped (SIGSTOP), which is how a pause is seen. */
  now(): number
  /** Epoch ms. */
  wall(): number
  /** Call fn once, ms from now on this clock (client-go's AfterFunc). */
  after(ms: number, fn: () => void): Timer
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms)
    return {cancel: () => clearTimeout(t)}
  },
}

/** Convert a monotonic reading to epoch ms, for humans (the /status expiry). */
export function toEpoch(clock: Clock, mono: number): number {
  return Math.round(clock.wall() + (mono - clock.now()))
}
