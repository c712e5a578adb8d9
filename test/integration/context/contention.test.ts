// Atomic operations and fencing under contention from real, separate processes (child node processes on
// one store): increments end exact, and a fenced-out writer's writes all come before the newer holder's.
import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BACKENDS, POSTGRES_NOT_RUN, createStore, getAsync, startBackend, type Backend} from './backends.js'

if (POSTGRES_NOT_RUN) it.skip(`NOT RUN: PostgreSQL contention tests (${POSTGRES_NOT_RUN})`, () => {})

const WORKER = fileURLToPath(new URL('../../../harness/context-worker.cjs', import.meta.url))

interface WorkerResult {accepted: number; refused: number; errors: string[]; ms: number; fatal?: string}

function runWorker(args: Record<string, unknown>): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [WORKER, JSON.stringify(args)], {timeout: 120_000}, (err, stdout, stderr) => {
      if (err) return reject(new Error(`worker failed: ${err.message} ${stderr}`))
      resolve(JSON.parse(stdout.trim().split('\n').pop()!))
    })
  })
}

describe.each(BACKENDS)('contention on %s', name => {
  let backend: Backend
  beforeAll(async () => {
    backend = await startBackend(name)
  })
  afterAll(() => backend?.stop())

  it('4 processes x 2,500 increments end at exactly 10,000', async () => {
    const config = backend.config()
    const results = await Promise.all([0, 1, 2, 3].map(() => runWorker({config, scope: 'global', job: 'increment', n: 2500, key: 'hits'})))
    for (const r of results) expect(r).toMatchObject({accepted: 2500, refused: 0, errors: []})
    const store = createStore(config)
    await store.open()
    expect(await getAsync(store, 'global', 'hits')).toBe(10_000)
    await store.close()
  }, 180_000)

  it('3 processes x 200 compare-and-set loops end at exactly 600', async () => {
    const config = backend.config()
    const results = await Promise.all([0, 1, 2].map(() => runWorker({config, scope: 'cas', job: 'cas-increment', n: 200, key: 'n'})))
    for (const r of results) expect(r).toMatchObject({accepted: 200, errors: []})
    const store = createStore(config)
    await store.open()
    expect(await getAsync(store, 'cas', 'n')).toBe(600)
    await store.close()
  }, 180_000)

  it('concurrent fenced writers: no write of the older token lands after the newer one wrote', async () => {
    const config = backend.config({fenceDomain: `contention-${name}`})
    // The writers must overlap, or nothing is tested: the older one starts first and keeps writing until the
    // newer one has fenced it out (20 refusals, at most 100,000 tries); the newer starts once the older's
    // writes are landing.
    const olderRun = runWorker({config, scope: 'fence', job: 'append-token', n: 100_000, stopAfterRefused: 20, key: 'log', token: 1})
    const watcher = createStore(config)
    await watcher.open()
    for (let i = 0; i < 600 && !(((await getAsync(watcher, 'fence', 'log')) as number[] | undefined)?.length); i++) await new Promise(r => setTimeout(r, 50))
    await watcher.close()
    const newer = await runWorker({config, scope: 'fence', job: 'append-token', n: 300, key: 'log', token: 2})
    const older = await olderRun
    expect(newer).toMatchObject({accepted: 300, refused: 0, errors: []})
    expect(older.errors).toEqual([])
    expect(older.refused).toBe(20)
    expect(older.accepted).toBeGreaterThan(0)
    const store = createStore(config)
    await store.open()
    const log = (await getAsync(store, 'fence', 'log')) as number[]
    await store.close()
    // every accepted write is in the log exactly once, and the log is ordered by token: 1s, then 2s
    expect(log.length).toBe(older.accepted + newer.accepted)
    expect(log.filter(t => t === 1).length).toBe(older.accepted)
    const firstNew = log.indexOf(2)
    expect(log.slice(firstNew).every(t => t === 2)).toBe(true)
  }, 180_000)
})
