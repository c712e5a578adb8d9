import {describe, expect, it} from 'vitest'
import {LeaseElector} from '../../../src/agent/lease/elector.js'
import {FakeClock, MemoryLeaseStore} from './fakes.js'

const timings = {leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}

function candidate(name: string, store: MemoryLeaseStore, clock: FakeClock) {
  const events: string[] = []
  const elector = new LeaseElector(store, name, timings, clock, {
    onAcquired: (token, prev) => events.push(`acquired ${token}${prev ? ' from ' + prev : ''}`),
    onLost: reason => events.push(`lost ${reason}`),
    onStoreError: err => events.push(`error ${(err as Error).message}`),
  })
  return {elector, events}
}

describe('LeaseElector over a shared store (fake clock)', () => {
  it('one of two candidates acquires; the other waits until the holder stops renewing, then takes over with a bigger token', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    const b = candidate('b', store, clock)
    expect(await a.elector.tick(() => true)).toBe('acquire')
    expect(await b.elector.tick(() => true)).toBe('wait')
    expect(a.events).toEqual(['acquired 1'])
    // a renews every retry period; b keeps waiting.
    for (let i = 0; i < 20; i++) {
      clock.advance(200)
      expect(await a.elector.tick(() => true)).toBe('renew')
      expect(await b.elector.tick(() => true)).toBe('wait')
    }
    // a stops (frozen): b sees the record unchanged for a whole lease duration, then takes over.
    let took = 0
    for (let t = 200; t <= 3000; t += 200) {
      clock.advance(200)
      if ((await b.elector.tick(() => true)) === 'acquire') {
        took = t
        break
      }
    }
    expect(took).toBeGreaterThanOrEqual(2000)
    expect(took).toBeLessThanOrEqual(2200)
    expect(b.events).toEqual(['acquired 2 from a'])
    expect(store.record).toMatchObject({holder: 'b', transitions: 2})
    // a wakes up: its watchdog sees the deadline passed before any I/O.
    expect(a.elector.checkDeadline()).toBe(true)
    expect(a.events).toEqual(['acquired 1', 'lost renew-deadline'])
    expect(a.elector.leading).toBe(false)
    // and its next round sees b hold it, and waits.
    expect(await a.elector.tick(() => true)).toBe('wait')
  })

  it('a release lets the other candidate acquire at its next round, without waiting for expiry', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    const b = candidate('b', store, clock)
    await a.elector.tick(() => true)
    await b.elector.tick(() => true)
    expect(await a.elector.release()).toBe(true)
    expect(a.elector.leading).toBe(false)
    clock.advance(200)
    expect(await b.elector.tick(() => true)).toBe('acquire')
    expect(b.events).toEqual(['acquired 2 from a']) // a failover: the last holder it saw was a
  })

  it('sees the lease taken (record names another holder) and reports it lost', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    await a.elector.tick(() => true)
    store.record = {...store.record!, holder: 'intruder', transitions: 9}
    store.version++
    clock.advance(200)
    await a.elector.tick(() => true)
    expect(a.events).toEqual(['acquired 1', 'lost lost'])
  })

  it('a conflict (someone wrote in between) is not a win; a store error is reported and retried next round', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    store.failNext = new Error('disk I/O error')
    expect(await a.elector.tick(() => true)).toBe('error')
    expect(a.events).toEqual(['error disk I/O error'])
    expect(await a.elector.tick(() => true)).toBe('acquire')
  })

  it('a renew write that is still in flight when the agent resigns does not make it leader again', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    await a.elector.tick(() => true)
    const origWrite = store.write.bind(store)
    store.write = async (r, v) => {
      a.elector.resignNow() // a fence happens while the write is on the wire
      return origWrite(r, v)
    }
    clock.advance(200)
    expect(await a.elector.tick(() => true)).toBe('idle')
    expect(a.elector.leading).toBe(false)
    store.write = origWrite
    clock.advance(200)
    expect(await a.elector.tick(() => true)).toBe('acquire') // a new tenure, a new token
    expect(a.events).toEqual(['acquired 1', 'acquired 2'])
  })

  it('a write answered after the renew deadline (a pause mid-write) does not count as leading', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    const origWrite = store.write.bind(store)
    store.write = async (r, v) => {
      clock.advance(1600)
      return origWrite(r, v)
    }
    expect(await a.elector.tick(() => true)).toBe('idle')
    expect(a.events).toEqual([])
    expect(a.elector.leading).toBe(false)
  })

  it('does not acquire when it does not want to (Node-RED not ready)', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const a = candidate('a', store, clock)
    expect(await a.elector.tick(() => false)).toBe('idle')
    expect(store.writes).toBe(0)
  })
})
