import type {Clock} from '../../../src/agent/clock.js'
import type {LeaseRecord, Observed} from '../../../src/agent/lease/machine.js'
import type {LeaseStore} from '../../../src/agent/lease/store.js'

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  mono = 1000
  epoch = 1_800_000_000_000
  now(): number {
    return this.mono
  }
  wall(): number {
    return this.epoch
  }
  advance(ms: number): void {
    this.mono += ms
    this.epoch += ms
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
