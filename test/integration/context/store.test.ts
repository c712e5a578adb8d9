// The shared context store's contract, the same on both backends: what Node-RED's flow.get/set/keys
// expect (sync and callback forms, nested keys, JSON values), what another replica sees, fencing, and the
// atomic operations. PostgreSQL runs on a server the test starts (NOT RUN, loudly, without its binaries).
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tmpdir} from 'node:os'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BACKENDS, POSTGRES_NOT_RUN, createStore, getAsync, setAsync, startBackend, until, type Backend, type Store} from './backends.js'

if (POSTGRES_NOT_RUN) it.skip(`NOT RUN: PostgreSQL store contract (${POSTGRES_NOT_RUN})`, () => {})

let unique = 0
const scopeName = () => `flow-${process.pid}-${++unique}`

describe.each(BACKENDS)('shared context store on %s', name => {
  let backend: Backend
  const opened: Store[] = []
  async function open(extra: Record<string, unknown> = {}): Promise<Store> {
    const store = createStore(backend.config(extra))
    await store.open()
    opened.push(store)
    return store
  }
  /** Set in the form the backend makes synchronous (sqlite), or with a callback (PostgreSQL commits later). */
  const write = (s: Store, scope: string, key: string | string[], value: unknown) => setAsync(s, scope, key, value)

  beforeAll(async () => {
    backend = await startBackend(name)
  })
  afterAll(async () => {
    for (const s of opened) await s.close()
    backend?.stop()
  })

  it('reads back JSON values of every kind, synchronously and with a callback', async () => {
    const s = await open()
    const scope = scopeName()
    const values: Record<string, unknown> = {num: 42.5, str: 'héllo', yes: true, nil: null, arr: [1, 'two', {three: 3}], obj: {a: {b: [1, 2]}}}
    for (const [k, v] of Object.entries(values)) await write(s, scope, k, v)
    for (const [k, v] of Object.entries(values)) {
      expect(s.get(scope, k)).toEqual(v)
      expect(await getAsync(s, scope, k)).toEqual(v)
    }
    expect(s.get(scope, 'missing')).toBeUndefined()
    expect(s.keys(scope)).toEqual(Object.keys(values).sort())
  })

  it('sets and gets nested keys like a.b[0] inside one stored object', async () => {
    const s = await open()
    const scope = scopeName()
    await write(s, scope, 'a.b[0]', 5)
    await write(s, scope, 'a.c', 'x')
    expect(s.get(scope, 'a')).toEqual({b: [5], c: 'x'})
    expect(s.get(scope, 'a.b[0]')).toBe(5)
    expect(s.get(scope, 'a.nope.deeper')).toBeUndefined()
    await write(s, scope, 'a.c', undefined)
    expect(s.get(scope, 'a')).toEqual({b: [5]})
    expect(s.keys(scope)).toEqual(['a'])
  })

  it('gets and sets arrays of keys as Node-RED passes them', async () => {
    const s = await open()
    const scope = scopeName()
    await write(s, scope, ['x', 'y'], [1, 2])
    expect(s.get(scope, ['x', 'y', 'z'])).toEqual([1, 2, undefined])
    const viaCallback = await new Promise<unknown[]>((resolve, reject) => s.get(scope, ['x', 'y'], (err, ...v) => (err ? reject(err) : resolve(v))))
    expect(viaCallback).toEqual([1, 2])
  })

  it('setting undefined deletes the key', async () => {
    const s = await open()
    const scope = scopeName()
    await write(s, scope, 'k', 1)
    await write(s, scope, 'k', undefined)
    expect(s.get(scope, 'k')).toBeUndefined()
    expect(s.keys(scope)).toEqual([])
  })

  it('hands out copies: changing a value read from the store does not change the store', async () => {
    const s = await open()
    const scope = scopeName()
    await write(s, scope, 'o', {n: 1})
    const o = s.get(scope, 'o')
    o.n = 2
    expect(s.get(scope, 'o')).toEqual({n: 1})
  })

  it('delete removes a scope; clean removes the scopes of nodes no longer deployed and keeps global', async () => {
    const s = await open()
    const [gone, kept, nodeScope] = [scopeName(), scopeName(), `n1:${scopeName()}`]
    for (const scope of [gone, kept, nodeScope, 'global']) await write(s, scope, 'v', 1)
    await s.delete(gone)
    expect(s.get(gone, 'v')).toBeUndefined()
    await s.clean([kept])
    expect(s.get(kept, 'v')).toBe(1)
    expect(s.get('global', 'v')).toBe(1)
    expect(s.get(nodeScope, 'v')).toBeUndefined()
  })

  it("another replica's store sees a write (plain get: at once on sqlite, by notification on PostgreSQL)", async () => {
    const a = await open()
    const b = await open()
    const scope = scopeName()
    expect(b.get(scope, 'shared')).toBeUndefined()
    await write(a, scope, 'shared', {from: 'a'})
    if (name === 'sqlite') expect(b.get(scope, 'shared')).toEqual({from: 'a'})
    else await until(() => b.get(scope, 'shared')?.from === 'a', "b's cache to follow a's write")
    expect(await getAsync(b, scope, 'shared')).toEqual({from: 'a'})
    await write(b, scope, 'shared', {from: 'b'})
    await until(() => a.get(scope, 'shared')?.from === 'b', "a's cache to follow b's write")
    expect(b.keys(scope)).toEqual(['shared'])
  })

  it('a plain set shows in the same replica at once (read your writes)', async () => {
    const s = await open()
    const scope = scopeName()
    s.set(scope, 'now', 7)
    expect(s.get(scope, 'now')).toBe(7)
    // and it reaches the database
    await until(() => true, 'nothing')
    await expect.poll(() => getAsync(s, scope, 'now')).toBe(7)
  })

  it('atomic operations: increment, compareAndSet and append through flow.get("$atomic")', async () => {
    const s = await open()
    const scope = scopeName()
    const atomic = s.get(scope, '$atomic')
    expect(await atomic.increment('n')).toBe(1)
    expect(await atomic.increment('n', 4.5)).toBe(5.5)
    expect(await atomic.compareAndSet('n', 1, 100)).toEqual({ok: false, value: 5.5})
    expect(await atomic.compareAndSet('n', 5.5, 100)).toEqual({ok: true, value: 100})
    expect(await atomic.compareAndSet('fresh', undefined, {set: 1})).toEqual({ok: true, value: {set: 1}})
    expect(await atomic.compareAndSet('fresh', {set: 1}, 'next')).toEqual({ok: true, value: 'next'})
    expect(await atomic.append('log', {e: 1})).toBe(1)
    expect(await atomic.append('log', 'two')).toBe(2)
    expect(await atomic.increment('deep.count[1]', 2)).toBe(2)
    expect(await getAsync(s, scope, 'log')).toEqual([{e: 1}, 'two'])
    expect(await getAsync(s, scope, 'deep')).toEqual({count: [undefined, 2].map(v => v ?? null)})
    expect(s.get(scope, 'n')).toBe(100)
  })

  it('atomic operations refuse a value of the wrong type, and leave it as it was', async () => {
    const s = await open()
    const scope = scopeName()
    await write(s, scope, 'str', 'text')
    const atomic = s.get(scope, '$atomic')
    await expect(atomic.increment('str')).rejects.toMatchObject({code: 'FF_HA_ATOMIC_TYPE', message: expect.stringContaining('cannot increment a string')})
    await expect(atomic.append('str', 1)).rejects.toMatchObject({code: 'FF_HA_ATOMIC_TYPE'})
    await expect(atomic.increment('n', Number.NaN)).rejects.toMatchObject({code: 'FF_HA_ATOMIC_TYPE'})
    expect(await getAsync(s, scope, 'str')).toBe('text')
    expect(() => s.set(scope, '$atomic', 1)).toThrow(/reserved/)
  })

  describe('fencing', () => {
    it('refuses a write from a token older than the newest seen; accepts equal and newer tokens', async () => {
      const domain = `d-${scopeName()}`
      let oldToken: number | null = 4
      let newToken = 5
      const old = await open({fenceDomain: domain, token: () => oldToken})
      const fresh = await open({fenceDomain: domain, token: () => newToken})
      const scope = scopeName()
      await write(old, scope, 'c', 'old-before')
      await write(fresh, scope, 'c', 'new')
      await expect(write(old, scope, 'c', 'old-after')).rejects.toMatchObject({code: 'FF_HA_FENCED', message: expect.stringMatching(/token 4 is older than 5/)})
      await expect(old.get(scope, '$atomic').increment('n')).rejects.toMatchObject({code: 'FF_HA_FENCED'})
      await expect(old.delete(scope)).rejects.toMatchObject({code: 'FF_HA_FENCED'})
      expect(await getAsync(fresh, scope, 'c')).toBe('new')
      await write(fresh, scope, 'c', 'new-again') // equal token
      newToken = 9
      await write(fresh, scope, 'c', 'newer') // newer token
      oldToken = null
      await expect(write(old, scope, 'c', 'no-lease')).rejects.toMatchObject({code: 'FF_HA_NO_TOKEN'})
      expect(await getAsync(fresh, scope, 'c')).toBe('newer')
      await until(() => old.get(scope, 'c') === 'newer', "the refused writer's cache to hold the real value")
      // the store counts what the fence refused (a set and an increment of token 4; no token is not a fence)
      expect(await fresh.get(scope, '$atomic').refusals()).toEqual({count: 2, lastToken: 4})
    })

    it('a plain set that is refused throws (sqlite) or is logged and undone in the cache (PostgreSQL), never applied', async () => {
      const domain = `d-${scopeName()}`
      const logged: string[] = []
      const old = await open({fenceDomain: domain, token: () => 1, log: {error: (m: string) => logged.push(m)}})
      const fresh = await open({fenceDomain: domain, token: () => 2})
      const scope = scopeName()
      await write(fresh, scope, 'c', 'new')
      if (name === 'sqlite') {
        expect(() => old.set(scope, 'c', 'stale')).toThrow(/write refused: fencing token 1 is older than 2/)
      } else {
        old.set(scope, 'c', 'stale')
        await until(() => logged.length > 0, 'the refused write to be logged')
        expect(logged[0]).toMatch(/write of \["c"\] in .* failed: .*fencing token 1 is older than 2/)
        await until(() => old.get(scope, 'c') === 'new', 'the cache to drop the refused value')
      }
      expect(await getAsync(fresh, scope, 'c')).toBe('new')
    })

    it('store.fence(token) at takeover refuses the old holder before the new one writes anything', async () => {
      const domain = `d-${scopeName()}`
      const old = await open({fenceDomain: domain, token: () => 3})
      const fresh = await open({fenceDomain: domain, token: () => 4})
      const scope = scopeName()
      await write(old, scope, 'c', 'old')
      await fresh.fence(4)
      await expect(write(old, scope, 'c', 'stale')).rejects.toMatchObject({code: 'FF_HA_FENCED'})
      await expect(old.fence(3)).rejects.toMatchObject({code: 'FF_HA_FENCED'})
    })

    it('reads the token from config.tokenFile at every write (the file the agent maintains)', async () => {
      const file = join(tmpdir(), `ff-ha-token-${process.pid}-${++unique}`)
      const domain = `d-${scopeName()}`
      const s = await open({fenceDomain: domain, tokenFile: file})
      const scope = scopeName()
      await expect(write(s, scope, 'k', 1)).rejects.toMatchObject({code: 'FF_HA_NO_TOKEN', message: expect.stringContaining(file)})
      writeFileSync(file, '7\n')
      await write(s, scope, 'k', 1)
      writeFileSync(file, '6')
      await expect(write(s, scope, 'k', 2)).rejects.toMatchObject({code: 'FF_HA_FENCED'})
      writeFileSync(file, 'seven')
      await expect(write(s, scope, 'k', 3)).rejects.toThrow(/fencing token from .* is not a non-negative integer/)
      expect(await getAsync(s, scope, 'k')).toBe(1)
    })
  })
})

describe('bad configuration', () => {
  it('names the backend choices', () => {
    expect(() => createStore({backend: 'redis'})).toThrow('ff-ha shared context: config.backend must be "sqlite" or "postgres", not "redis"')
    expect(() => createStore({backend: 'sqlite'})).toThrow(/needs config.path/)
    expect(() => createStore({backend: 'postgres'})).toThrow(/needs config.connectionString/)
    expect(() => createStore({backend: 'sqlite', path: '/tmp/x.db', token: 5})).toThrow(/config.token must be a function/)
    expect(() => createStore({backend: 'sqlite', path: '/tmp/x.db', token: () => 1, tokenFile: '/tmp/t'})).toThrow(/not both/)
  })

  it('an unreachable PostgreSQL at open is a one-line error naming host and port, without the password', async () => {
    const store = createStore({backend: 'postgres', connectionString: 'postgres://u:secret-pw@127.0.0.1:1/db', connectTimeoutMs: 2000})
    const err = await store.open().then(() => null, (e: Error) => e)
    expect(err?.message).toMatch(/^ff-ha shared context: cannot reach PostgreSQL at 127\.0\.0\.1:1\/db: ECONNREFUSED; check/)
    expect(err?.message).not.toContain('secret-pw')
    expect(err?.message).not.toContain('\n')
  })

  it('an sqlite path that cannot be opened is a one-line error naming it', async () => {
    const store = createStore({backend: 'sqlite', path: '/etc/hostname/sub/context.db'})
    await expect(store.open()).rejects.toThrow(/^ff-ha shared context: cannot open sqlite database \/etc\/hostname\/sub\/context.db: ENOTDIR/)
  })
})
