// The lease timing invariants (client-go's leaderelection): checked in one place, by the profile loader (with
// the field to point at) and by the lease machine (as sentences).
// 1. leaseDuration > renewDeadline: the holder gives up leading at renewDeadline, nobody takes over before
//    leaseDuration; the gap is the time the holder has to stop its flows.
// 2. renewDeadline > 1.2 x retryPeriod: a holder gets more than one try to renew before it must give up.

export interface LeaseTimings {
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
}

export type LeaseTimingField = keyof LeaseTimings

export interface LeaseTimingProblem {
  field: LeaseTimingField
  related?: LeaseTimingField
  /** Says what the field must be, e.g. "must be greater than renewDeadlineMs (2000): ...". */
  message: string
  hint: string
}

const HINT_TAIL = 'leave all the timings out for the defaults of the lease backend'

/** Every violated invariant; empty when the timings are sound. */
export function leaseTimingChecks(t: LeaseTimings): LeaseTimingProblem[] {
  const problems: LeaseTimingProblem[] = []
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    problems.push({
      field: 'leaseDurationMs',
      related: 'renewDeadlineMs',
      message: `must be greater than renewDeadlineMs (${t.renewDeadlineMs}): the holder must give up before others may take over`,
      hint: `raise leaseDurationMs or lower renewDeadlineMs; ${HINT_TAIL}`,
    })
  }
  if (!(t.renewDeadlineMs > 1.2 * t.retryPeriodMs)) {
    problems.push({
      field: 'renewDeadlineMs',
      related: 'retryPeriodMs',
      message: `must be greater than 1.2 x retryPeriodMs (${t.retryPeriodMs * 1.2}): a renew needs time for at least one retry`,
      hint: `raise renewDeadlineMs or lower retryPeriodMs; ${HINT_TAIL}`,
    })
  }
  if (!(t.retryPeriodMs > 0)) problems.push({field: 'retryPeriodMs', message: 'must be positive', hint: `raise retryPeriodMs; ${HINT_TAIL}`})
  return problems
}

/** The same problems as sentences ("leaseDurationMs (1500) must be greater than ..."). */
export function leaseTimingProblems(t: LeaseTimings): string[] {
  return leaseTimingChecks(t).map(p => `${p.field} (${t[p.field]}) ${p.message}`)
}

/**
 * How long the holder may take to stop its flows (or wait for a start in flight): half the gap between
 * renewDeadline and leaseDuration, at least 100 ms. The agent bounds its stops by it; render sizes the
 * Kubernetes grace period with it.
 */
export function stopBoundMs(t: Pick<LeaseTimings, 'leaseDurationMs' | 'renewDeadlineMs'>): number {
  return Math.max(100, Math.floor((t.leaseDurationMs - t.renewDeadlineMs) / 2))
}
