import type {Clock} from '../clock.js'
import {
  expiresAt,
  initialLeaseState,
  isLeading,
  leaderDeadline,
  observe,
  observeHolderGone,
  plan,
  planRelease,
  resign,
  written,
  type LeaseState,
  type LeaseTimings,
  type Plan,
} from './machine.js'
import type {HolderLiveness} from './liveness.js'
import type {LeaseStore} from './store.js'

export interface ElectorHooks {
  /** We hold a new tenure: start flows. Called synchronously after the write. */
  onAcquired(token: number, previousHolder: string | null): void
  /** We stopped leading: stop flows NOW. Called synchronously, before any other I/O. */
  onLost(reason: 'lost' | 'renew-deadline'): void
  /** A store failure (logged by the caller; the next tick tries again). */
  onStoreError?(err: unknown): void
  /** The holder was proven gone (liveness.ts): we take the lease before it expires. */
  onHolderGone?(holder: string): void
}

// The I/O loop around machine.ts: read, observe, plan, write, one operation at a time (a chain), so that a
// release queued during a tick runs after it, with the version the tick saw.
export class LeaseElector {
  private state: LeaseState
  private chain: Promise<unknown> = Promise.resolve()
  /** Bumped at every resign, so that a write that was in flight when we resigned does not count as leading. */
  private epoch = 0
  acquisitions = 0
  losses = 0
  /** Monotonic ms at which our last successful acquire or renew was sent; kept after we resign. */
  lastRenewSentAt: number | null = null

  constructor(
    private readonly store: LeaseStore,
    identity: string,
    timings: LeaseTimings,
    private readonly clock: Clock,
    private readonly hooks: ElectorHooks,
    /** Where the backend can prove a holder gone (sqlite on a local filesystem); else expiry only. */
    private readonly liveness: HolderLiveness | null = null,
  ) {
    this.state = initialLeaseState(identity, timings)
  }

  get leading(): boolean {
    return isLeading(this.state, this.clock.now())
  }

  get token(): number | null {
    return this.state.token
  }

  /** The lease as we see it: holder, fencing token, expiry (monotonic ms). */
  view(): {holder: string | null; token: number | null; expiresAtMono: number | null; deadlineMono: number | null} {
    const record = this.state.observed?.record ?? null
    return {holder: record?.holder ?? null, token: record?.transitions ?? null, expiresAtMono: expiresAt(this.state), deadlineMono: leaderDeadline(this.state)}
  }

  /**
   * Check the renew deadline against the monotonic clock; call it often (a watchdog) and at every wake-up.
   * Synchronous on purpose: after a pause it must run before any await.
   */
  checkDeadline(): boolean {
    const deadline = leaderDeadline(this.state)
    if (deadline !== null && this.clock.now() >= deadline) {
      this.resignNow(true)
      this.hooks.onLost('renew-deadline')
      return true
    }
    return false
  }

  /**
   * Stop leading without touching the record (the caller stops flows, then calls release()). `lost`: the
   * tenure ended because the lease could not be trusted (counted), not because we gave it up.
   */
  resignNow(lost = false): void {
    if (lost && this.state.renewedAt !== null) this.losses++
    this.state = resign(this.state)
    this.epoch++
  }

  /** One round: read, then acquire / renew / release / wait, as `want` says. */
  tick(want: () => boolean): Promise<Plan['kind'] | 'error'> {
    return this.enqueue(() => this.round(want))
  }

  /** Give the lease up if the record names us (after flows are stopped); `to`: hand it to that replica. */
  release(to: string | null = null): Promise<boolean> {
    return this.enqueue(async () => {
      this.resignNow()
      try {
        const obs = await this.store.read()
        this.state = observe(this.state, obs, this.clock.now()).state
        const p = planRelease(this.state, this.clock.wall(), to)
        if (!p || p.kind !== 'release') return false
        const sentAt = this.clock.now()
        const version = await this.store.write(p.record, p.version)
        if (version === null) return false
        this.state = written(this.state, p, version, sentAt)
        return true
      } catch (err) {
        this.hooks.onStoreError?.(err)
        return false
      }
    })
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn)
    this.chain = run.catch(() => undefined)
    return run
  }

  private async round(want: () => boolean): Promise<Plan['kind'] | 'error'> {
    if (this.checkDeadline()) return 'idle'
    let obs
    try {
      obs = await this.store.read()
    } catch (err) {
      this.hooks.onStoreError?.(err)
      return 'error'
    }
    const previousHolder = this.state.observed?.record?.holder ?? null
    const seen = observe(this.state, obs, this.clock.now())
    this.state = seen.state
    if (seen.lost) {
      this.losses++
      this.epoch++
      this.hooks.onLost('lost')
      return 'idle'
    }
    if (this.checkDeadline()) return 'idle'
    let p = plan(this.state, this.clock.now(), this.clock.wall(), want())
    if (p.kind === 'wait' && this.liveness?.holderGone(p.holder)) {
      this.state = observeHolderGone(this.state, obs.version)
      this.hooks.onHolderGone?.(p.holder)
      p = plan(this.state, this.clock.now(), this.clock.wall(), want())
    }
    if (p.kind === 'wait' || p.kind === 'idle') return p.kind
    const epoch = this.epoch
    const sentAt = this.clock.now()
    let version: string | null
    try {
      version = await this.store.write(p.record, p.version)
    } catch (err) {
      this.hooks.onStoreError?.(err)
      return 'error'
    }
    if (version === null) return 'wait'
    if (epoch !== this.epoch && p.kind !== 'release') {
      // We resigned while the write was in flight: the record names us, but flows are being stopped.
      // Keep the record (so the next round sees it) without leading; that round starts a new tenure.
      this.state = resign(written(this.state, p, version, sentAt))
      return 'idle'
    }
    this.state = written(this.state, p, version, sentAt)
    this.lastRenewSentAt = sentAt
    if (!isLeading(this.state, this.clock.now()) && p.kind !== 'release') {
      // The write took longer than the renew deadline (a pause mid-write): not a tenure to act on.
      this.state = resign(this.state)
      return 'idle'
    }
    if (p.kind === 'acquire') {
      this.acquisitions++
      this.hooks.onAcquired(p.record.transitions, previousHolder === this.state.identity ? null : previousHolder)
    }
    return p.kind
  }
}
