import {performance} from 'node:perf_hooks'

/** Two clocks: monotonic for every decision, wall only for records and logs. Tests pass a fake. */
export interface Clock {
  /** Monotonic ms; keeps counting while the process is stopped (SIGSTOP), which is how a pause is seen. */
  now(): number
  /** Epoch ms. */
  wall(): number
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
}

/** Convert a monotonic reading to epoch ms, for humans (the /status expiry). */
export function toEpoch(clock: Clock, mono: number): number {
  return Math.round(clock.wall() + (mono - clock.now()))
}
