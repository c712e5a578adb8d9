import type {Clock} from './clock.js'
import {errorMessage} from '../errors.js'
import {LeaseElector} from './lease/elector.js'
import type {LeaseTimings} from './lease/machine.js'
import type {LeaseStore} from './lease/store.js'
import type {AgentLog} from './log.js'
import {SINGLETON_NAME, SINGLETON_NAME_HINT} from './singleton-names.js'

// Named singletons for the `ff-ha singleton` node (issue #16 point 4; docs/design/singleton.md).
//
// The node in Node-RED asks its agent, over loopback, at every poll: "may I pass messages for singleton X,
// and for how long?" The agent answers from a lease it runs for X: in load-balanced mode one LeaseElector
// per name, on `<lease>-singleton-<name>` in the profile's lease backend (the same machine, the same
// fencing token, the same invariants as the hot-spare lease); in hot-spare mode the replica's own lease is
// every singleton's lease (only the active runs flows).
//
// Invariants (in the words of lease/machine.ts):
// S1. The node passes only during a grant: validForMs counted from the moment it SENT its request. A grant
//     never reaches past the elector's leader deadline (renewedAt + renewDeadline), so with invariant 1 the
//     node stops passing before anyone else may take the lease (leaseDuration after the last renew).
// S2. A singleton's lease is given up (released) only after every grant handed out has run out: the
//     elector resigns first (no new grants), waits for the latest grant to pass, then releases.
// S3. Interest is the node's polls: a singleton nobody asked about for interestMs is given up (S2), so a
//     removed node, stopped flows or a hung Node-RED do not keep the work from the other replicas.

export type SingletonState = 'holder' | 'standby' | 'error'

/** The agent's answer to one poll of the node (POST /singleton/<name>). */
export interface SingletonAnswer {
  name: string
  state: SingletonState
  /** The fencing token of this replica's tenure (grows at every new tenure); null unless holder. */
  token: number | null
  /** The replica the lease record names, as this agent last read it (may be stale). */
  holder: string | null
  /** How long, from when the node sent its request, it may pass messages: 0 unless holder (S1). */
  validForMs: number
  /** When to ask again. */
  pollMs: number
  error?: string
}

/** Where the answers come from: named leases (load-balanced) or the replica's lease (hot-spare). */
export interface SingletonSource {
  claim(name: string): Promise<SingletonAnswer>
  /** The node was removed from the flows: give the singleton up now (S2). */
  drop(name: string): Promise<void>
  /** The agent stops: give every singleton up (S2). */
  close(): Promise<void>
}

/** How long after a failed open of a singleton's store the next claim tries again. */
const OPEN_RETRY_MS = 2000

function nameProblem(name: string): string | null {
  return SINGLETON_NAME.test(name) ? null : `invalid singleton name ${JSON.stringify(name).slice(0, 80)}: ${SINGLETON_NAME_HINT}`
}

function errorAnswer(name: string, error: string, pollMs: number): SingletonAnswer {
  return {name, state: 'error', token: null, holder: null, validForMs: 0, pollMs, error}
}

export interface LeasedSingletonsOptions {
  replica: string
  timings: LeaseTimings
  /** How often a candidate reads (the backend's candidatePollMs, at most retryPeriod). */
  candidatePollMs: number
  clock: Clock
  log: AgentLog
  /** Open the store of the lease with this name (the backend registry; throws RemoteError when it cannot). */
  open(leaseName: string): Promise<LeaseStore>
  /** The lease a singleton runs on. */
  leaseName(name: string): string
  /** Why this name may not be used here (e.g. not in the Kubernetes Role), or null. */
  refuse?(name: string): string | null
}

interface Entry {
  name: string
  elector: LeaseElector | null
  store: LeaseStore | null
  ready: Promise<void>
  lastClaim: number
  /** Monotonic ms until which a grant was handed out (S2). */
  grantedUntil: number
  retiring: Promise<void> | null
  storeError: string | null
  lastError: string | null
}

/** One lease per singleton name, run while the node asks for it (load-balanced mode). */
export class LeasedSingletons implements SingletonSource {
  private readonly entries = new Map<string, Entry>()
  /** Stores that could not be opened: the error, and when to try again (a poll must not reopen, or log, every time). */
  private readonly openFailures = new Map<string, {error: string; retryAt: number}>()
  private closed = false
  readonly pollMs: number
  readonly interestMs: number

  constructor(private readonly o: LeasedSingletonsOptions) {
    this.pollMs = o.timings.retryPeriodMs
    // Longer than a poll plus an event-loop stall of the node's Node-RED: losing interest hands the work over.
    this.interestMs = o.timings.leaseDurationMs + o.timings.renewDeadlineMs
  }

  async claim(name: string): Promise<SingletonAnswer> {
    const problem = nameProblem(name) ?? this.o.refuse?.(name) ?? null
    if (problem) return errorAnswer(name, problem, this.pollMs)
    if (this.closed) return this.standby(name, null)
    const failed = this.openFailures.get(name)
    if (failed && this.o.clock.now() < failed.retryAt) return errorAnswer(name, failed.error, this.pollMs)
    let e = this.entries.get(name)
    if (!e) {
      e = {name, elector: null, store: null, ready: Promise.resolve(), lastClaim: this.o.clock.now(), grantedUntil: -Infinity, retiring: null, storeError: null, lastError: null}
      this.entries.set(name, e)
      e.ready = this.begin(e)
    }
    if (!e.retiring) e.lastClaim = this.o.clock.now()
    await e.ready
    return this.answer(e)
  }

  async drop(name: string): Promise<void> {
    const e = this.entries.get(name)
    if (e) await this.retire(e, 'node removed')
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.entries.values()].map(e => this.retire(e, 'agent stopping')))
  }

  /** Singletons this agent runs, for logs and tests. */
  names(): string[] {
    return [...this.entries.keys()]
  }

  private standby(name: string, holder: string | null): SingletonAnswer {
    return {name, state: 'standby', token: null, holder, validForMs: 0, pollMs: this.pollMs}
  }

  private answer(e: Entry): SingletonAnswer {
    const el = e.elector
    if (!el) return errorAnswer(e.name, e.lastError ?? 'the lease store is not open', this.pollMs)
    const view = el.view()
    const now = this.o.clock.now()
    if (!e.retiring && el.leading && view.deadlineMono !== null && view.deadlineMono > now) {
      e.grantedUntil = Math.max(e.grantedUntil, view.deadlineMono)
      return {name: e.name, state: 'holder', token: el.token, holder: this.o.replica, validForMs: Math.floor(view.deadlineMono - now), pollMs: this.pollMs}
    }
    if (e.lastError) return {...errorAnswer(e.name, e.lastError, this.pollMs), holder: view.holder}
    return this.standby(e.name, view.holder)
  }

  private async begin(e: Entry): Promise<void> {
    const {clock, log, replica} = this.o
    const leaseName = this.o.leaseName(e.name)
    try {
      e.store = await this.o.open(leaseName)
    } catch (err) {
      e.lastError = errorMessage(err)
      if (this.openFailures.get(e.name)?.error !== e.lastError) log('singleton', {name: e.name, action: 'error', error: e.lastError})
      // Not kept: a claim after OPEN_RETRY_MS tries to open it again.
      this.openFailures.set(e.name, {error: e.lastError, retryAt: clock.now() + OPEN_RETRY_MS})
      this.entries.delete(e.name)
      return
    }
    if (this.openFailures.delete(e.name)) log('singleton', {name: e.name, action: 'recovered'})
    e.elector = new LeaseElector(e.store, replica, this.o.timings, clock, {
      onAcquired: (token, previousHolder) => log('singleton', {name: e.name, action: 'acquired', token, previousHolder, lease: leaseName}),
      onLost: reason => log('singleton', {name: e.name, action: 'lost', reason}),
      onStoreError: err => (e.storeError = errorMessage(err)),
    })
    await this.round(e)
    this.schedule(e)
  }

  private async round(e: Entry): Promise<void> {
    const result = await e.elector!.tick(() => !e.retiring && !this.closed)
    const error = result === 'error' ? (e.storeError ?? 'lease store error') : null
    if (error !== e.lastError) {
      if (error) this.o.log('singleton', {name: e.name, action: 'error', error})
      else if (e.lastError) this.o.log('singleton', {name: e.name, action: 'recovered'})
    }
    e.lastError = error
  }

  private schedule(e: Entry): void {
    const {clock, timings} = this.o
    const loop = async () => {
      if (e.retiring || this.closed) return
      if (clock.now() - e.lastClaim > this.interestMs) return void this.retire(e, 'no poll from the node')
      const t0 = clock.now()
      await this.round(e)
      const period = e.elector!.leading ? timings.retryPeriodMs : this.o.candidatePollMs
      clock.after(Math.max(0, period - (clock.now() - t0)), () => void loop())
    }
    clock.after(e.elector!.leading ? timings.retryPeriodMs : this.o.candidatePollMs, () => void loop())
  }

  /** S2: resign, wait out every grant, release, close. A claim meanwhile gets standby. */
  private retire(e: Entry, reason: string): Promise<void> {
    e.retiring ??= (async () => {
      await e.ready
      const el = e.elector
      if (el) {
        const wasLeading = el.leading
        el.resignNow()
        const wait = e.grantedUntil - this.o.clock.now()
        if (wait > 0) await new Promise<void>(resolve => this.o.clock.after(wait, resolve))
        const released = await el.release()
        if (wasLeading || released) this.o.log('singleton', {name: e.name, action: 'released', reason, released})
      }
      await e.store?.close().catch(() => undefined)
      this.entries.delete(e.name)
    })()
    return e.retiring
  }
}

/** Hot-spare: only the active runs flows, so every singleton is the replica's own lease. */
export class ReplicaLeaseSingletons implements SingletonSource {
  constructor(
    private readonly elector: () => LeaseElector | null,
    private readonly clock: Clock,
    private readonly pollMs: number,
  ) {}

  async claim(name: string): Promise<SingletonAnswer> {
    const problem = nameProblem(name)
    if (problem) return errorAnswer(name, problem, this.pollMs)
    const el = this.elector()
    const view = el?.view()
    const now = this.clock.now()
    if (el?.leading && view?.deadlineMono != null && view.deadlineMono > now) {
      return {name, state: 'holder', token: el.token, holder: view.holder, validForMs: Math.floor(view.deadlineMono - now), pollMs: this.pollMs}
    }
    return {name, state: 'standby', token: null, holder: view?.holder ?? null, validForMs: 0, pollMs: this.pollMs}
  }

  async drop(): Promise<void> {}

  async close(): Promise<void> {}
}
