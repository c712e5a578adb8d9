import {describe, expect, it} from 'vitest'
import {
  expiresAt,
  initialLeaseState,
  isLeading,
  leaseTimingProblems,
  observe,
  plan,
  planRelease,
  resign,
  written,
  type LeaseRecord,
  type LeaseState,
  type Plan,
} from '../../../src/agent/lease/machine.js'

const timings = {leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}
const other = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({holder: 'b', leaseDurationMs: 2000, acquireTime: 0, renewTime: 0, transitions: 4, ...over})

function write(state: LeaseState, p: Plan, version: string, at: number): LeaseState {
  if (!('record' in p)) throw new Error(`expected a write, got ${p.kind}`)
  return written(state, p, version, at)
}

describe('lease timing invariants', () => {
  it('accepts leaseDuration > renewDeadline > 1.2 x retryPeriod', () => {
    expect(leaseTimingProblems(timings)).toEqual([])
    expect(leaseTimingProblems({leaseDurationMs: 15000, renewDeadlineMs: 10000, retryPeriodMs: 2000})).toEqual([])
  })
  it('refuses a renew deadline that reaches the lease duration, and one with no room for a retry', () => {
    expect(leaseTimingProblems({leaseDurationMs: 1500, renewDeadlineMs: 1500, retryPeriodMs: 200})[0]).toMatch(/leaseDurationMs \(1500\) must be greater than renewDeadlineMs/)
    expect(leaseTimingProblems({leaseDurationMs: 2000, renewDeadlineMs: 240, retryPeriodMs: 200})[0]).toMatch(/1.2 x retryPeriodMs \(240\)/)
  })
})

describe('lease state machine (fake clock)', () => {
  it('acquires a lease that does not exist yet, with token 1, creating it (version null)', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: null, version: null}, 1000).state
    const p = plan(s, 1000, 5000, true)
    expect(p).toMatchObject({kind: 'acquire', version: null, record: {holder: 'a', transitions: 1, leaseDurationMs: 2000, acquireTime: 5000}})
    s = write(s, p, '1', 1000)
    expect(isLeading(s, 1000)).toBe(true)
    expect(s.token).toBe(1)
  })

  it('waits while another holder renews: expiry runs from when WE saw the record change, not its timestamps', () => {
    let s = initialLeaseState('a', timings)
    // The record's own renewTime is ancient (another host's clock, or it sat unread): irrelevant.
    s = observe(s, {record: other({renewTime: 1}), version: '7'}, 10_000).state
    expect(plan(s, 10_000, 0, true)).toEqual({kind: 'wait', holder: 'b', expiresAt: 12_000})
    // Unchanged record read again later: the clock keeps running from the first sighting.
    s = observe(s, {record: other({renewTime: 1}), version: '7'}, 11_900).state
    expect(plan(s, 11_900, 0, true).kind).toBe('wait')
    // The holder renews (version changes): expiry moves.
    s = observe(s, {record: other({renewTime: 2}), version: '8'}, 11_950).state
    expect(plan(s, 13_000, 0, true)).toMatchObject({kind: 'wait', expiresAt: 13_950})
    expect(expiresAt(s)).toBe(13_950)
  })

  it('takes over an expired lease with the version it read, and the fencing token grows', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: other(), version: '8'}, 0).state
    const p = plan(s, 2000, 9999, true)
    expect(p).toMatchObject({kind: 'acquire', version: '8', record: {holder: 'a', transitions: 5}})
  })

  it('takes a released lease (holder null) at once, without waiting for expiry', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: other({holder: null}), version: '9'}, 0).state
    expect(plan(s, 1, 0, true)).toMatchObject({kind: 'acquire', version: '9', record: {transitions: 5}})
  })

  it('renews while leading, keeping the token and acquireTime; stops leading at renewDeadline after the last renew was SENT', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: null, version: null}, 0).state
    s = write(s, plan(s, 0, 100, true), '1', 0)
    s = observe(s, {record: s.observed!.record, version: '1'}, 200).state
    const renew = plan(s, 200, 300, true)
    expect(renew).toMatchObject({kind: 'renew', version: '1', record: {transitions: 1, acquireTime: 100, renewTime: 300}})
    s = write(s, renew, '2', 200) // sent at 200, answered whenever
    expect(isLeading(s, 1699)).toBe(true)
    expect(isLeading(s, 1700)).toBe(false) // 200 + 1500
    // Stop leading strictly before anyone else may take over: they wait 2000 from seeing the change at >= 200.
    expect(1700).toBeLessThan(200 + timings.leaseDurationMs)
  })

  it('after a pause longer than the renew deadline, the same holder starts a NEW tenure: a bigger token', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: null, version: null}, 0).state
    s = write(s, plan(s, 0, 0, true), '1', 0)
    // Frozen for 3 s; nobody took it. Not leading any more: the record still names us, but a new tenure.
    expect(isLeading(s, 3000)).toBe(false)
    s = observe(s, {record: s.observed!.record, version: '1'}, 3000).state
    expect(plan(s, 3000, 0, true)).toMatchObject({kind: 'acquire', version: '1', record: {transitions: 2}})
  })

  it('sees the lease lost when the record names someone else while we lead', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: null, version: null}, 0).state
    s = write(s, plan(s, 0, 0, true), '1', 0)
    const seen = observe(s, {record: other({transitions: 2}), version: '2'}, 100)
    expect(seen.lost).toBe(true)
    expect(isLeading(seen.state, 100)).toBe(false)
    expect(seen.state.token).toBeNull()
  })

  it('never writes when it does not want the lease, even while holding it: the release is a separate step', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: null, version: null}, 0).state
    s = write(s, plan(s, 0, 0, true), '1', 0)
    expect(plan(s, 100, 0, false)).toEqual({kind: 'idle'})
    const release = planRelease(resign(s), 777)
    expect(release).toMatchObject({kind: 'release', version: '1', record: {holder: null, transitions: 1, renewTime: 777}})
    const after = write(s, release!, '2', 150)
    expect(isLeading(after, 150)).toBe(false)
    expect(expiresAt(after)).toBeNull()
  })

  it('a handover writes the record to the named replica with the same token; it takes it with a larger one, the others wait', () => {
    const t = timings
    let a = initialLeaseState('a', t)
    a = observe(a, {record: null, version: null}, 0).state
    const acq = plan(a, 0, 1000, true)
    a = written(a, acq as Plan & {record: LeaseRecord}, '1', 0)
    const handed = planRelease(resign(a), 1500, 'b') as Plan & {record: LeaseRecord}
    expect(handed).toMatchObject({kind: 'release', version: '1', record: {holder: 'b', transitions: 1}})
    const b = observe(initialLeaseState('b', t), {record: handed.record, version: '2'}, 100).state
    expect(plan(b, 100, 1600, true)).toMatchObject({kind: 'acquire', version: '2', record: {holder: 'b', transitions: 2}})
    const c = observe(initialLeaseState('c', t), {record: handed.record, version: '2'}, 100).state
    expect(plan(c, 100, 1600, true)).toMatchObject({kind: 'wait', holder: 'b'})
    // handing to itself is a plain release
    expect((planRelease(a, 1500, 'a') as Plan & {record: LeaseRecord}).record.holder).toBeNull()
  })

  it('does not release a lease that names someone else', () => {
    let s = initialLeaseState('a', timings)
    s = observe(s, {record: other(), version: '3'}, 0).state
    expect(planRelease(s, 0)).toBeNull()
  })

  it('two candidates that both saw an expired lease plan writes with the same version: only one can win', () => {
    let a = initialLeaseState('a', timings)
    let c = initialLeaseState('c', timings)
    a = observe(a, {record: other(), version: '5'}, 0).state
    c = observe(c, {record: other(), version: '5'}, 0).state
    const pa = plan(a, 2500, 0, true)
    const pc = plan(c, 2500, 0, true)
    expect(pa).toMatchObject({kind: 'acquire', version: '5', record: {transitions: 5}})
    expect(pc).toMatchObject({kind: 'acquire', version: '5', record: {transitions: 5}})
  })
})
