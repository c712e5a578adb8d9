import {connect} from 'node:net'
import type {Clock, Timer} from './clock.js'

/** Parse "host:port" (the profile's failover.witness). */
export function parseWitness(address: string): {host: string; port: number} {
  const i = address.lastIndexOf(':')
  return {host: address.slice(0, i), port: Number(address.slice(i + 1))}
}

/** Open a TCP connection and close it at once; true if it connected within timeoutMs. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({host, port})
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.on('error', () => undefined)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Reached within the window, as of monotonic now: the one rule, shared by Witness and the supervisor's machine. */
export function reachedWithin(lastOkAt: number | null, now: number, windowMs: number): boolean {
  return lastOkAt !== null && now - lastOkAt < windowMs
}

// A file lease on one host stays reachable from a replica that is cut off the network: without a witness,
// such a replica keeps renewing while nobody can reach it. With a witness (the proxy, the broker, a
// gateway), leading also requires that we reached it within the last renewDeadline: otherwise we stop
// renewing and release, and a candidate that cannot reach it does not try to acquire.
export class Witness {
  private lastOkAt: number | null = null
  private timer: Timer | null = null
  private stopped = false
  failures = 0

  constructor(
    readonly address: string,
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly periodMs: number,
    private readonly probe: (host: string, port: number, timeoutMs: number) => Promise<boolean> = probeTcp,
    /** Told every probe's outcome (the supervisor feeds it to its machine as an event). */
    private readonly onProbe: (ok: boolean, startedAt: number) => void = () => undefined,
  ) {}

  /** Reached within the window, as of monotonic now. */
  reachable(now = this.clock.now()): boolean {
    return reachedWithin(this.lastOkAt, now, this.windowMs)
  }

  /** One probe; records when it succeeded (the time it was started, to be conservative). */
  async check(): Promise<boolean> {
    const {host, port} = parseWitness(this.address)
    const startedAt = this.clock.now()
    const ok = await this.probe(host, port, Math.max(50, Math.min(this.periodMs, this.windowMs / 2)))
    if (ok) this.lastOkAt = Math.max(this.lastOkAt ?? -Infinity, startedAt)
    else this.failures++
    this.onProbe(ok, startedAt)
    return ok
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return
      await this.check()
      if (!this.stopped) this.timer = this.clock.after(this.periodMs, () => void loop())
    }
    void loop()
  }

  stop(): void {
    this.stopped = true
    this.timer?.cancel()
  }
}
