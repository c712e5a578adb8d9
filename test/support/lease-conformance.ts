// The lease-store conformance suite, in the spirit of ESLint's RuleTester: one function that takes a backend's
// store factory and registers the describe/it blocks that prove a LeaseStore keeps the contract that the lease
// machine (src/agent/lease/machine.ts) relies on. Every backend's runner under test/integration/lease/ calls it;
// docs/design/adding-a-lease-backend.md says how.
//
// What it proves, and which machine invariant needs it:
//  - an empty lease reads as {record: null, version: null}, and a create (version null) succeeds once: the
//    second create is a conflict (null), never an error (404-then-create; invariant 4);
//  - compare-and-swap: a write carrying the version read succeeds and yields a new version; a stale or never
//    issued version is a conflict and changes nothing (invariant 4);
//  - a record round-trips: holder, duration, times (ms), token; a release (holder null) keeps the token;
//  - expiry is judged by the reader's clock, never by the record's times, and a takeover makes the old holder's
//    renew a conflict (invariants 3, 4, 6);
//  - several PROCESSES racing on one lease: every fencing token is won by exactly one of them, the tokens are
//    1..n without a gap, and each process's own tokens grow (invariants 4, 6); several processes creating a new
//    lease at once: exactly one creates it.
import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'
import {initialLeaseState, observe, plan, written, type LeaseRecord} from '../../src/agent/lease/machine.js'
import type {LeaseStore} from '../../src/agent/lease/store.js'
import {packageRoot} from '../../src/paths.js'

/** What a backend's factory module exports as default: opens a store on the lease a spec names, in any process. */
export interface LeaseStoreFactory {
  open(spec: unknown): Promise<LeaseStore>
}

export interface LeaseConformanceOptions {
  /** The backend, for test titles. */
  name: string
  /** The module whose default export is the LeaseStoreFactory: imported here and by every worker process. */
  factory: URL
  /** A fresh, empty lease for one test (a temp file, a fake server): its spec (JSON) and how to remove it. */
  fresh(): Promise<{spec: unknown; cleanup(): Promise<void>}>
  /** Processes and rounds of the race (defaults 3 x 300). */
  processes?: number
  rounds?: number
}

const WORKER = fileURLToPath(new URL('./lease-conformance-worker.ts', import.meta.url))
/** A duration every backend stores exactly (Kubernetes keeps whole seconds). */
const DURATION_MS = 2000

const record = (holder: string | null, transitions: number, at = Date.now()): LeaseRecord => ({holder, leaseDurationMs: DURATION_MS, acquireTime: at, renewTime: at, transitions})

/**
 * Start one worker per identity, wait until all have opened the store, then tell them all to go at once, and
 * collect the JSON line each prints.
 */
async function runWorkers(factory: URL, spec: unknown, mode: 'race' | 'create', identities: string[], rounds = 0): Promise<Record<string, any>[]> {
  const children = identities.map(id =>
    spawn(process.execPath, ['--import', 'tsx', WORKER, factory.href, JSON.stringify(spec), mode, id, String(rounds)], {cwd: packageRoot, stdio: ['pipe', 'pipe', 'pipe']}),
  )
  const stderr = children.map(() => [] as string[])
  children.forEach((c, i) => c.stderr!.on('data', d => stderr[i].push(String(d))))
  const outputs = children.map((c, i) => {
    const lines = createInterface({input: c.stdout!})
    const seen: string[] = []
    const ready = new Promise<void>((resolve, reject) => {
      lines.on('line', line => (line === 'ready' ? resolve() : seen.push(line)))
      c.on('exit', code => reject(new Error(`${identities[i]} exited ${code} before it was ready: ${stderr[i].join('')}`)))
    })
    const done = new Promise<Record<string, any>>((resolve, reject) =>
      c.on('exit', code => (code === 0 && seen.length ? resolve(JSON.parse(seen.at(-1)!)) : reject(new Error(`${identities[i]} exited ${code}: ${stderr[i].join('')}`)))),
    )
    return {ready, done}
  })
  try {
    await Promise.all(outputs.map(o => o.ready))
    for (const c of children) c.stdin!.end('go\n')
    return await Promise.all(outputs.map(o => o.done))
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  }
}

export function leaseStoreConformance(options: LeaseConformanceOptions): void {
  const {name, factory} = options
  const processes = options.processes ?? 3
  const rounds = options.rounds ?? 300

  describe(`LeaseStore conformance: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = []
    const stores: LeaseStore[] = []
    afterEach(async () => {
      await Promise.all(stores.splice(0).map(s => s.close()))
      for (const cleanup of cleanups.splice(0)) await cleanup()
    })
    async function fresh(): Promise<{spec: unknown; open(): Promise<LeaseStore>}> {
      const {spec, cleanup} = await options.fresh()
      cleanups.push(cleanup)
      const {default: f} = (await import(factory.href)) as {default: LeaseStoreFactory}
      return {
        spec,
        async open() {
          const store = await f.open(spec)
          stores.push(store)
          return store
        },
      }
    }

    it('an empty lease reads as no record and no version; a create succeeds once, a second create is a conflict (404-then-create)', async () => {
      const lease = await fresh()
      const [a, b] = [await lease.open(), await lease.open()]
      expect(a.describe).toMatch(/\S/)
      expect(await a.read()).toEqual({record: null, version: null})
      const v1 = await a.write(record('a', 1), null)
      expect(typeof v1).toBe('string')
      expect(await b.write(record('b', 1), null)).toBeNull()
      const seen = await b.read()
      expect(seen.version).toBe(v1)
      expect(seen.record?.holder).toBe('a')
    })

    it('compare-and-swap: the version read wins once and yields a new version; a stale or unknown version is a conflict and changes nothing', async () => {
      const lease = await fresh()
      const [a, b] = [await lease.open(), await lease.open()]
      const v1 = (await a.write(record('a', 1), null))!
      const v2 = await a.write(record('a', 1), v1)
      expect(typeof v2).toBe('string')
      expect(v2).not.toBe(v1)
      const before = await b.read()
      expect(await b.write(record('b', 2), v1)).toBeNull() // stale
      expect(await b.write(record('b', 2), `${v2}-never-issued`)).toBeNull()
      expect(await a.read()).toEqual(before)
      expect(before.version).toBe(v2)
      // The winner of a race on the same version is the only one: the second writer with it conflicts.
      const [w1, w2] = await Promise.all([a.write(record('a', 2), v2), b.write(record('b', 2), v2)])
      expect([w1, w2].filter(v => v !== null)).toHaveLength(1)
    })

    it('a record round-trips (holder, duration, times in ms, token); a release keeps the token and the next tenure takes token + 1', async () => {
      const lease = await fresh()
      const [a, b] = [await lease.open(), await lease.open()]
      const at = Date.now()
      const written1 = {holder: 'a', leaseDurationMs: DURATION_MS, acquireTime: at - 1234, renewTime: at, transitions: 7}
      const v1 = (await a.write(written1, null))!
      expect(await b.read()).toEqual({record: written1, version: v1})
      const released = {...written1, holder: null, renewTime: at + 5}
      const v2 = (await a.write(released, v1))!
      expect(await b.read()).toEqual({record: released, version: v2})
      const next = record('b', released.transitions + 1)
      const v3 = await b.write(next, v2)
      expect(v3).not.toBeNull()
      expect((await a.read()).record).toEqual(next)
    })

    it('expiry is judged by the reader\'s clock, not the record\'s times; after a takeover the old holder\'s renew is a conflict', async () => {
      const lease = await fresh()
      const [holderStore, readerStore] = [await lease.open(), await lease.open()]
      const timings = {leaseDurationMs: DURATION_MS, renewDeadlineMs: 1500, retryPeriodMs: 200}
      // The holder's wall clock is an hour behind: by its timestamps the lease expired long ago.
      const skewed = Date.now() - 3_600_000
      let holder = initialLeaseState('holder', timings)
      holder = observe(holder, await holderStore.read(), 0).state
      const take = plan(holder, 0, skewed, true)
      expect(take.kind).toBe('acquire')
      if (take.kind !== 'acquire') return
      holder = written(holder, take, (await holderStore.write(take.record, take.version))!, 0)

      // The reader's monotonic clock starts at 10_000 when it first sees the record.
      let reader = initialLeaseState('reader', timings)
      reader = observe(reader, await readerStore.read(), 10_000).state
      expect(plan(reader, 10_000, Date.now(), true)).toMatchObject({kind: 'wait', holder: 'holder', expiresAt: 10_000 + DURATION_MS})
      expect(plan(reader, 10_000 + DURATION_MS - 1, Date.now(), true).kind).toBe('wait')
      // The holder renews (the record changes): the reader's wait starts again from when it saw the change.
      const renew = plan(holder, 100, skewed + 100, true)
      expect(renew.kind).toBe('renew')
      if (renew.kind !== 'renew') return
      const renewedVersion = (await holderStore.write(renew.record, renew.version))!
      expect(renewedVersion).not.toBeNull()
      holder = written(holder, renew, renewedVersion, 100)
      reader = observe(reader, await readerStore.read(), 11_000).state
      expect(plan(reader, 10_000 + DURATION_MS, Date.now(), true).kind).toBe('wait')
      // Silence for a whole lease duration, by the reader's clock: it takes over with the next token.
      reader = observe(reader, await readerStore.read(), 11_000 + DURATION_MS).state
      const takeover = plan(reader, 11_000 + DURATION_MS, Date.now(), true)
      expect(takeover).toMatchObject({kind: 'acquire', record: {holder: 'reader', transitions: 2}})
      if (takeover.kind !== 'acquire') return
      expect(await readerStore.write(takeover.record, takeover.version)).not.toBeNull()
      // The old holder's next renew carries the version it last wrote: a conflict, so it cannot overwrite.
      const stale = plan(holder, 200, skewed + 200, true)
      expect(stale.kind).toBe('renew')
      if (stale.kind !== 'renew') return
      expect(await holderStore.write(stale.record, stale.version)).toBeNull()
      expect((await holderStore.read()).record).toMatchObject({holder: 'reader', transitions: 2})
    })

    it('close() may be called twice', async () => {
      const lease = await fresh()
      const a = await lease.open()
      await a.close()
      await a.close()
    })

    it(`${processes} processes racing on one lease: every fencing token is won by exactly one of them`, async () => {
      const lease = await fresh()
      const ids = Array.from({length: processes}, (_, i) => `p${i}`)
      const results = (await runWorkers(factory, lease.spec, 'race', ids, rounds)) as {identity: string; won: number[]; conflicts: number}[]
      const all = results.flatMap(r => r.won).sort((x, y) => x - y)
      // Contiguous 1..n, no duplicates: no two writers ever won the same transition.
      expect(all).toEqual(Array.from({length: all.length}, (_, i) => i + 1))
      expect(all.length).toBeGreaterThanOrEqual(rounds)
      expect(results.reduce((n, r) => n + r.conflicts, 0)).toBeGreaterThan(0) // they did race
      for (const r of results) expect(r.won).toEqual([...r.won].sort((x, y) => x - y))
      const store = await lease.open()
      expect((await store.read()).record?.transitions).toBe(all.length)
    }, 180_000)

    it(`${processes + 1} processes creating a new lease at once: exactly one creates it, the others see a conflict`, async () => {
      const lease = await fresh()
      const ids = Array.from({length: processes + 1}, (_, i) => `c${i}`)
      const results = (await runWorkers(factory, lease.spec, 'create', ids)) as {identity: string; created: boolean}[]
      const creators = results.filter(r => r.created)
      expect(creators).toHaveLength(1)
      const store = await lease.open()
      expect((await store.read()).record).toMatchObject({holder: creators[0].identity, transitions: 1})
    }, 180_000)
  })
}
