import type {Clock, Timer} from '../../../src/agent/clock.js'
import type {LeaseRecord, Observed} from '../../../src/agent/lease/machine.js'
import type {LeaseStore} from '../../../src/agent/lease/store.js'

/**
 * A clock the test moves by hand, after client-go's testing.FakeClock: advance() moves both readings and
 * fires, in order of their due time, every timer that falls due (the clock reads each timer's due time
 * while its callback runs, so a callback that sets a new timer is placed correctly).
 */
export class FakeClock implements Clock {
  mono = 1000
  epoch = 1_800_000_000_000
  private timers: {due: number; seq: number; fn: () => void}[] = []
  private seq = 0

  now(): number {
    return this.mono
  }

  wall(): number {
    return this.epoch
  }

  after(ms: number, fn: () => void): Timer {
    const timer = {due: this.mono + Math.max(0, ms), seq: this.seq++, fn}
    this.timers.push(timer)
    return {cancel: () => void (this.timers = this.timers.filter(t => t !== timer))}
  }

  /** How many timers wait (client-go's HasWaiters). */
  get waiting(): number {
    return this.timers.length
  }

  /** Move time without running timers, as a process stopped (SIGSTOP) sees it; overdue timers run at the next advance(). */
  jump(ms: number): void {
    this.mono += ms
    this.epoch += ms
  }

  advance(ms: number): void {
    const end = this.mono + ms
    for (;;) {
      const next = this.timers.filter(t => t.due <= end).sort((a, b) => a.due - b.due || a.seq - b.seq)[0]
      if (!next) break
      this.timers = this.timers.filter(t => t !== next)
      this.epoch += next.due - this.mono
      this.mono = next.due
      next.fn()
    }
    this.epoch += end - this.mono
    this.mono = end
  }
}

/** An in-memory lease store with the same compare-and-swap semantics as the real ones; shared by candidates. */
export class MemoryLeaseStore implements LeaseStore {
  readonly describe = 'memory'
  record: LeaseRecord | null = null
  version = 0
  writes = 0
  failNext: Error | null = null
  async read(): Promise<Observed> {
    return {record: this.record ? {...this.record} : null, version: this.record ? String(this.version) : null}
  }
  async write(record: LeaseRecord, version: string | null): Promise<string | null> {
    if (this.failNext) {
      const e = this.failNext
      this.failNext = null
      throw e
    }
    this.writes++
    if (version === null ? this.record !== null : String(this.version) !== version) return null
    this.record = {...record}
    this.version++
    return String(this.version)
  }
  async close(): Promise<void> {}
}
