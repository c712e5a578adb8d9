import {describe, expect, it} from 'vitest'
import {LeaseElector} from '../../../src/agent/lease/elector.js'
import {LeasedSingletons, ReplicaLeaseSingletons, type SingletonAnswer} from '../../../src/agent/singletons.js'
import {FakeClock, MemoryLeaseStore} from './fakes.js'

// The agent's singleton leases (src/agent/singletons.ts) on a fake clock and in-memory lease stores shared
// by name, as the replicas of one group share the real backend. Invariants S1-S3 are in singletons.ts.

const timings = {leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}

/** Let the promise chains of the electors run (no timers: the fake clock holds them). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

/** Move the fake clock in small steps, letting each step's I/O finish. */
async function run(clock: FakeClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step)
    await flush()
  }
}

function group(clock: FakeClock) {
  const stores = new Map<string, MemoryLeaseStore>()
  const opened: string[] = []
  const logs: Record<string, Record<string, unknown>[]> = {}
  const replica = (name: string, refuse?: (n: string) => string | null) => {
    logs[name] = []
    return new LeasedSingletons({
      replica: name,
      timings,
      candidatePollMs: 50,
      clock,
      log: (event, fields) => logs[name].push({event, ...fields}),
      leaseName: n => `grp-leader-singleton-${n}`,
      open: async leaseName => {
        opened.push(leaseName)
        if (!stores.has(leaseName)) stores.set(leaseName, new MemoryLeaseStore())
        return stores.get(leaseName)!
      },
      refuse,
    })
  }
  return {stores, opened, logs, replica}
}

describe('LeasedSingletons: one lease per singleton name (load-balanced)', () => {
  it('the first claimant holds the singleton with token 1; the others are standbys that name it', async () => {
    const clock = new FakeClock()
    const g = group(clock)
    const a = g.replica('a')
    const b = g.replica('b')
    const ha = await a.claim('ticker')
    const hb = await b.claim('ticker')
    expect(ha).toMatchObject({name: 'ticker', state: 'holder', token: 1, holder: 'a'})
    expect(ha.validForMs).toBeGreaterThan(0)
    expect(ha.validForMs).toBeLessThanOrEqual(timings.renewDeadlineMs)
    expect(hb).toMatchObject({state: 'standby', token: null, holder: 'a', validForMs: 0})
    expect(g.opened).toEqual(['grp-leader-singleton-ticker', 'grp-leader-singleton-ticker'])
    // Another name is another lease, held independently.
    expect(await b.claim('report')).toMatchObject({state: 'holder', token: 1})
    expect(g.stores.get('grp-leader-singleton-report')!.record).toMatchObject({holder: 'b'})
  })

  it('S1: while the store refuses every write, the holder\'s grant runs out before anyone may take the lease', async () => {
    const clock = new FakeClock()
    const g = group(clock)
    const a = g.replica('a')
    const b = g.replica('b')
    await a.claim('ticker')
    await b.claim('ticker')
    const store = g.stores.get('grp-leader-singleton-ticker')!
    // Keep both interested; a's renews fail from now on.
    const write = store.write.bind(store)
    store.write = async (record, version) => {
      if (record.holder === 'a') throw new Error('disk full')
      return write(record, version)
    }
    const grantEnds: number[] = []
    const errors: string[] = []
    let bTookAt: number | null = null
    for (let t = 0; t < 4000 && bTookAt === null; t += 100) {
      const sent = clock.now()
      const answer: SingletonAnswer = await a.claim('ticker')
      if (answer.state === 'holder') grantEnds.push(sent + answer.validForMs)
      if (answer.state === 'error') errors.push(answer.error!)
      if ((await b.claim('ticker')).state === 'holder') bTookAt = clock.now()
      await run(clock, 100)
    }
    expect(bTookAt).not.toBeNull()
    expect(grantEnds.length).toBeGreaterThan(0)
    expect(Math.max(...grantEnds)).toBeLessThan(bTookAt!)
    // Between its deadline and b's takeover, a's node saw the store's error; now it sees b.
    expect(errors).toContain('disk full')
    expect(await a.claim('ticker')).toMatchObject({state: 'standby', holder: 'b', validForMs: 0})
  })

  it('S3 and S2: a holder nobody polls gives the singleton up, but only after its last grant ran out; the next takes it with token 2', async () => {
    const clock = new FakeClock()
    const g = group(clock)
    const a = g.replica('a')
    const b = g.replica('b')
    const sent = clock.now()
    const last = await a.claim('ticker')
    expect(last.state).toBe('holder')
    const grantEnd = sent + last.validForMs
    let bTookAt: number | null = null
    // b keeps polling; a's node stopped polling (a hung Node-RED, stopped flows).
    for (let t = 0; t < 8000 && bTookAt === null; t += 100) {
      const answer = await b.claim('ticker')
      if (answer.state === 'holder') {
        bTookAt = clock.now()
        expect(answer.token).toBe(2)
      }
      await run(clock, 100)
    }
    expect(bTookAt).not.toBeNull()
    expect(bTookAt!).toBeGreaterThan(grantEnd)
    // Given up by a release (a's interest ran out after leaseDuration + renewDeadline), not by expiry.
    expect(g.logs.a.find(e => e.action === 'released')).toMatchObject({name: 'ticker', reason: 'no poll from the node', released: true})
    expect(a.names()).toEqual([])
  })

  it('drop (the node was removed): claims meanwhile are standby, the release waits out the grant', async () => {
    const clock = new FakeClock()
    const g = group(clock)
    const a = g.replica('a')
    const sent = clock.now()
    const granted = await a.claim('ticker')
    let dropped = false
    const drop = a.drop('ticker').then(() => (dropped = true))
    await flush()
    expect(await a.claim('ticker')).toMatchObject({state: 'standby', validForMs: 0})
    await run(clock, granted.validForMs - 50)
    expect(dropped).toBe(false)
    expect(g.stores.get('grp-leader-singleton-ticker')!.record!.holder).toBe('a')
    await run(clock, 100)
    await drop
    expect(clock.now()).toBeGreaterThanOrEqual(sent + granted.validForMs)
    expect(g.stores.get('grp-leader-singleton-ticker')!.record!.holder).toBeNull()
    // After the release the name can be claimed again: a new tenure, a bigger token.
    expect(await a.claim('ticker')).toMatchObject({state: 'holder', token: 2})
  })

  it('close (the agent stops) releases every singleton it holds', async () => {
    const clock = new FakeClock()
    const g = group(clock)
    const a = g.replica('a')
    await a.claim('one')
    await a.claim('two')
    const closing = a.close()
    await run(clock, 1600)
    await closing
    expect(g.stores.get('grp-leader-singleton-one')!.record!.holder).toBeNull()
    expect(g.stores.get('grp-leader-singleton-two')!.record!.holder).toBeNull()
    expect(await a.claim('one')).toMatchObject({state: 'standby'})
  })

  it('a bad name, a refused name and a store that cannot be opened are errors, never a grant', async () => {
    const clock = new FakeClock()
    const g = group(clock)
    const a = g.replica('a', n => (n === 'unlisted' ? 'not in failover.singletons' : null))
    expect(await a.claim('Bad Name')).toMatchObject({state: 'error', validForMs: 0})
    expect((await a.claim('Bad Name')).error).toMatch(/lower-case letters, digits and "-"/)
    expect(await a.claim('unlisted')).toMatchObject({state: 'error', error: 'not in failover.singletons', validForMs: 0})
    let opens = 0
    const logged: unknown[] = []
    const broken = new LeasedSingletons({
      replica: 'a',
      timings,
      candidatePollMs: 50,
      clock,
      log: (event, fields) => logged.push(fields),
      leaseName: n => n,
      open: async () => {
        opens++
        if (opens < 3) throw new Error('cannot open the sqlite lease /x/lease.db (EACCES)')
        return new MemoryLeaseStore()
      },
    })
    expect(await broken.claim('ticker')).toMatchObject({state: 'error', error: 'cannot open the sqlite lease /x/lease.db (EACCES)', validForMs: 0})
    expect(broken.names()).toEqual([])
    // Polls meanwhile do not reopen the store or log again; after 2 s one claim tries again.
    for (let i = 0; i < 9; i++) {
      clock.advance(200)
      expect((await broken.claim('ticker')).state).toBe('error')
    }
    expect(opens).toBe(1)
    clock.advance(200)
    expect((await broken.claim('ticker')).state).toBe('error')
    expect(opens).toBe(2)
    expect(logged).toHaveLength(1)
    clock.advance(2000)
    expect(await broken.claim('ticker')).toMatchObject({state: 'holder', token: 1})
    expect(logged).toEqual([{name: 'ticker', action: 'error', error: 'cannot open the sqlite lease /x/lease.db (EACCES)'}, {name: 'ticker', action: 'recovered'}, expect.objectContaining({action: 'acquired'})])
  })
})

describe('ReplicaLeaseSingletons: hot-spare, where the replica lease is every singleton', () => {
  it('holder with the lease token while leading, for as long as the renew deadline; standby otherwise', async () => {
    const clock = new FakeClock()
    const store = new MemoryLeaseStore()
    const elector = new LeaseElector(store, 'a', timings, clock, {onAcquired: () => {}, onLost: () => {}})
    const s = new ReplicaLeaseSingletons(() => elector, clock, timings.retryPeriodMs)
    expect(await s.claim('ticker')).toMatchObject({state: 'standby', validForMs: 0})
    await elector.tick(() => true)
    expect(await s.claim('ticker')).toMatchObject({state: 'holder', token: 1, validForMs: timings.renewDeadlineMs, pollMs: 200})
    clock.advance(1000)
    expect((await s.claim('ticker')).validForMs).toBe(500)
    clock.advance(600)
    expect(await s.claim('ticker')).toMatchObject({state: 'standby', validForMs: 0})
    expect(await new ReplicaLeaseSingletons(() => null, clock, 200).claim('x')).toMatchObject({state: 'standby'})
  })
})
