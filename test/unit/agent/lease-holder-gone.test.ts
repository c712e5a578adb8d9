import {describe, expect, it} from 'vitest'
import {LeaseElector} from '../../../src/agent/lease/elector.js'
import {FakeClock, MemoryLeaseStore} from './fakes.js'
import {initialLeaseState, isLeading, observe, observeHolderGone, plan, written, type LeaseRecord} from '../../../src/agent/lease/machine.js'

// The machine step with the liveness observation (invariant 7): a holder proven gone is taken over before
// its lease expires, by a compare-and-swap on the very version the proof was made for, with a greater token.
const timings = {leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}
const held = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({holder: 'b', leaseDurationMs: 2000, acquireTime: 0, renewTime: 0, transitions: 4, ...over})

describe('lease machine: the holder proven gone', () => {
  it('acquires at once, long before expiry, on the proven version, with the token grown by one', () => {
    let s = observe(initialLeaseState('a', timings), {record: held(), version: '7'}, 10_000).state
    expect(plan(s, 10_050, 0, true)).toEqual({kind: 'wait', holder: 'b', expiresAt: 12_000})
    s = observeHolderGone(s, '7')
    const p = plan(s, 10_050, 99, true)
    expect(p).toMatchObject({kind: 'acquire', version: '7', record: {holder: 'a', transitions: 5, acquireTime: 99}})
    s = written(s, p as Extract<typeof p, {record: LeaseRecord}>, '8', 10_050)
    expect(isLeading(s, 10_060)).toBe(true)
    expect(s.token).toBe(5)
  })

  it('a proof is void once the record changes: the holder renewed (alive after all), so wait again', () => {
    let s = observe(initialLeaseState('a', timings), {record: held(), version: '7'}, 10_000).state
    s = observeHolderGone(s, '7')
    s = observe(s, {record: held({renewTime: 5}), version: '8'}, 10_100).state
    expect(plan(s, 10_100, 0, true)).toEqual({kind: 'wait', holder: 'b', expiresAt: 12_100})
  })

  it('a proof about an older version than the one observed changes nothing', () => {
    let s = observe(initialLeaseState('a', timings), {record: held(), version: '8'}, 10_000).state
    s = observeHolderGone(s, '7')
    expect(plan(s, 10_000, 0, true).kind).toBe('wait')
  })

  it('a proof about a released lease or about ourselves changes nothing', () => {
    let free = observe(initialLeaseState('a', timings), {record: held({holder: null}), version: '3'}, 0).state
    expect(observeHolderGone(free, '3')).toBe(free)
    free = observe(initialLeaseState('b', timings), {record: held(), version: '3'}, 0).state
    expect(observeHolderGone(free, '3')).toBe(free)
  })

  it('a proof does not make a replica that does not want the lease write', () => {
    const s = observeHolderGone(observe(initialLeaseState('a', timings), {record: held(), version: '7'}, 10_000).state, '7')
    expect(plan(s, 10_000, 0, false)).toEqual({kind: 'idle'})
  })

  it('without a proof, expiry still rules: no takeover one ms before leaseDuration', () => {
    const s = observe(initialLeaseState('a', timings), {record: held(), version: '7'}, 10_000).state
    expect(plan(s, 11_999, 0, true).kind).toBe('wait')
    expect(plan(s, 12_000, 0, true).kind).toBe('acquire')
  })
})

describe('LeaseElector with a liveness probe (fake clock, memory store)', () => {
  it('asks the probe only while it waits on another holder, and on a proof takes over at once with a bigger token', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const asked: string[] = []
    let dead = false
    const gone: string[] = []
    const a = new LeaseElector(store, 'a', timings, clock, {onAcquired: () => undefined, onLost: () => undefined})
    const b = new LeaseElector(store, 'b', timings, clock, {onAcquired: () => undefined, onLost: () => undefined, onHolderGone: h => gone.push(h)}, {
      holderGone: holder => (asked.push(holder), dead),
    })
    expect(await b.tick(() => true)).toBe('acquire') // nobody holds it: no probe
    expect(asked).toEqual([])
    await b.release()
    expect(await a.tick(() => true)).toBe('acquire')
    clock.advance(200)
    expect(await b.tick(() => false)).toBe('idle') // not wanting it: no probe
    expect(await b.tick(() => true)).toBe('wait') // a lives
    expect(asked).toEqual(['a'])
    dead = true
    clock.advance(50)
    expect(await b.tick(() => true)).toBe('acquire') // 250 ms after a's last renew, not 2000
    expect(gone).toEqual(['a'])
    expect(store.record).toMatchObject({holder: 'b', transitions: 3})
  })
})
