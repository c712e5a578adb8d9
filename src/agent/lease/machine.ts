// The lease logic as a small pure state machine, after client-go's tools/leaderelection. No I/O and no
// clock of its own: every function takes `now`, a monotonic reading in ms (performance.now()), so that the
// tests drive it with a fake clock. The backends (sqlite, kubernetes) only read and write records.
//
// Invariants (checked by leaseTimingProblems, and relied on below):
// 1. leaseDuration > renewDeadline: the holder gives up leading (and stops its flows) at renewDeadline after
//    its last successful renew, while nobody else may take over before leaseDuration after they last saw
//    the record change. The gap (leaseDuration - renewDeadline) is the time the holder has to stop its flows.
// 2. renewDeadline > 1.2 x retryPeriod: a holder gets more than one try to renew before it must give up, so
//    a single slow write does not cost a failover.
// 3. Expiry is judged by OUR monotonic clock at which WE last saw the record change, never by the
//    timestamps inside the record: another host's wall clock may be off, and a record can sit unread.
// 4. Every write carries the version that was read (resourceVersion, or the sqlite row version): two
//    candidates that both saw an expired lease cannot both win; the loser gets a conflict.
// 5. A renew counts from the moment it was SENT, not answered: the holder's view of its lease never
//    outlives the record it wrote.
// 6. The fencing token (record.transitions) grows by one at every new tenure, even when the same identity
//    takes the lease again after losing or releasing it, so a stale holder's token is always smaller.
// 7. Expiry has one exception: a holder PROVEN GONE (observeHolderGone, from liveness.ts: no live process of
//    that replica holds its liveness lock). The proof is bound to the record version it was made for; any
//    change of the record voids it, and the takeover is still a compare-and-swap on that version (4) with
//    a greater token (6). Proof of safety: liveness.ts's header, docs/design/supervisor.md.

/** What a lease store holds. Times inside are epoch ms and for humans only (invariant 3). */
export interface LeaseRecord {
  /** Identity of the holder; null when released. */
  holder: string | null
  leaseDurationMs: number
  acquireTime: number
  renewTime: number
  /** The fencing token: grows at every transition (invariant 6). */
  transitions: number
}

/** A record as read, with the version that a write must carry (null: there is no record yet). */
export interface Observed {
  record: LeaseRecord | null
  version: string | null
}

export interface LeaseTimings {
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
}

export interface LeaseState {
  identity: string
  timings: LeaseTimings
  /** The last record read or written. */
  observed: Observed | null
  /** Monotonic ms at which the record was last seen to CHANGE (invariant 3). */
  observedAt: number | null
  /** Monotonic ms at which our last successful acquire or renew was sent; null when not leading. */
  renewedAt: number | null
  /** Our fencing token while leading. */
  token: number | null
  /** The record version whose holder was proven gone (invariant 7); void once the version changes. */
  goneVersion?: string | null
}

export type Plan =
  | {kind: 'acquire' | 'renew'; record: LeaseRecord; version: string | null}
  | {kind: 'release'; record: LeaseRecord; version: string | null}
  | {kind: 'wait'; holder: string; expiresAt: number}
  | {kind: 'idle'}

// Violations of invariants 1 and 2 as sentences: one check, shared with the profile loader.
export {leaseTimingProblems} from '../../model/lease-timing.js'

export function initialLeaseState(identity: string, timings: LeaseTimings): LeaseState {
  return {identity, timings, observed: null, observedAt: null, renewedAt: null, token: null}
}

function sameRecord(a: Observed | null, b: Observed): boolean {
  if (!a) return false
  if (a.version !== b.version) return false
  return JSON.stringify(a.record) === JSON.stringify(b.record)
}

/**
 * Take in a record just read at monotonic `now`. `lost` is true when we were leading and the record now
 * names someone else (or nobody): stop leading at once.
 */
export function observe(state: LeaseState, obs: Observed, now: number): {state: LeaseState; lost: boolean} {
  const changed = !sameRecord(state.observed, obs)
  const next: LeaseState = {...state, observed: obs, observedAt: changed || state.observedAt === null ? now : state.observedAt}
  const lost = state.renewedAt !== null && obs.record?.holder !== state.identity
  if (lost) {
    next.renewedAt = null
    next.token = null
  }
  return {state: next, lost}
}

/** True while we may act as the leader: a renew was sent less than renewDeadline ago (invariants 1, 5). */
export function isLeading(state: LeaseState, now: number): boolean {
  return state.renewedAt !== null && now - state.renewedAt < state.timings.renewDeadlineMs
}

/** Monotonic ms at which we must stop leading, or null when not leading. */
export function leaderDeadline(state: LeaseState): number | null {
  return state.renewedAt === null ? null : state.renewedAt + state.timings.renewDeadlineMs
}

/** Monotonic ms at which, as we judge it, the observed holder's lease expires; null when nobody holds it. */
export function expiresAt(state: LeaseState): number | null {
  const record = state.observed?.record
  if (!record?.holder || state.observedAt === null) return null
  if (record.holder === state.identity && state.renewedAt !== null) return state.renewedAt + record.leaseDurationMs
  return state.observedAt + record.leaseDurationMs
}

/** Stop leading (renew deadline missed, a pause, a failure). The record is left as is; see planRelease. */
export function resign(state: LeaseState): LeaseState {
  return {...state, renewedAt: null, token: null}
}

/** What to write next, given the last observation. Call observe() with a fresh read first. */
export function plan(state: LeaseState, now: number, wallNow: number, want: boolean): Plan {
  const obs = state.observed
  const record = obs?.record ?? null
  const version = obs?.version ?? null
  const leading = isLeading(state, now)
  // Not wanting the lease never writes: a release must wait until flows are confirmed stopped, so it is
  // its own step (planRelease), taken by the caller after the stop.
  if (!want) return {kind: 'idle'}
  if (record?.holder && record.holder !== state.identity) {
    const expiry = (state.observedAt ?? now) + record.leaseDurationMs
    const provenGone = state.goneVersion != null && state.goneVersion === version
    if (now < expiry && !provenGone) return {kind: 'wait', holder: record.holder, expiresAt: expiry}
  }
  const leaseDurationMs = state.timings.leaseDurationMs
  if (leading && record?.holder === state.identity) {
    return {kind: 'renew', version, record: {...record, leaseDurationMs, renewTime: wallNow}}
  }
  // A new tenure: nobody holds it, it expired, or it names us from a tenure we no longer lead (we lost it,
  // or this process restarted). The token grows either way (invariant 6).
  return {
    kind: 'acquire',
    version,
    record: {holder: state.identity, leaseDurationMs, acquireTime: wallNow, renewTime: wallNow, transitions: (record?.transitions ?? 0) + 1},
  }
}

/**
 * Take in a proof that the holder named by the record of `version` has no live process (invariant 7). A
 * proof about another version, about nobody, or about ourselves changes nothing.
 */
export function observeHolderGone(state: LeaseState, version: string | null): LeaseState {
  const obs = state.observed
  if (version === null || obs?.version !== version || !obs.record?.holder || obs.record.holder === state.identity) return state
  return {...state, goneVersion: version}
}

/**
 * A write that gives the lease up (holder null) so that a candidate may take it without waiting for expiry.
 * `to` (a handover): the record names that replica instead. It is no tenure yet (the token stays): the named
 * replica sees its own name at its next read and acquires it with a new token (plan: not leading, so a new
 * tenure); every other candidate sees a record that changed and waits leaseDuration, as for any holder. If
 * the named replica never takes it, it expires like any lease and anyone may.
 */
export function planRelease(state: LeaseState, wallNow: number, to: string | null = null): Plan | null {
  const record = state.observed?.record
  if (!record || record.holder !== state.identity) return null
  const holder = to === state.identity ? null : to
  return {kind: 'release', version: state.observed!.version, record: {...record, holder, renewTime: wallNow}}
}

/** Take in a successful write of `record` (new `version`) that was SENT at monotonic `sentAt`. */
export function written(state: LeaseState, p: Plan & {record: LeaseRecord}, version: string, sentAt: number): LeaseState {
  const observed: Observed = {record: p.record, version}
  if (p.kind === 'release') return {...state, observed, observedAt: sentAt, renewedAt: null, token: null}
  return {...state, observed, observedAt: sentAt, renewedAt: sentAt, token: p.record.transitions}
}
