import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'

const run = promisify(execFile)
const worker = join(packageRoot, 'test', 'integration', 'lease', 'sqlite-worker.ts')

// The sqlite lease runs in child processes:
// which is also how it is used, one process per replica on one file.
async function runWorker(...args: string[]): Promise<Record<string, unknown>> {
  const {stdout} = await run(process.execPath, ['--import', 'tsx', worker, ...args], {cwd: packageRoot, timeout: 60_000})
  return JSON.parse(stdout.trim().split('\n').pop()!)
}

describe('SqliteLeaseStore (real SQLite file, real processes)', () => {
  let dir: string
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('creates once, then writes only with the version read (compare-and-swap), in WAL mode', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-sqlite-'))
    const out = await runWorker('basic', join(dir, 'sub', 'lease.db'), 'a')
    expect(out.empty).toEqual({record: null, version: null})
    expect(out.create).toBe('1')
    expect(out.createAgain).toBeNull()
    expect(out.afterCreate).toEqual({version: '1', record: {holder: 'a', leaseDurationMs: 2000, acquireTime: 1, renewTime: 1, transitions: 1}})
    expect(out.update).toBe('2')
    expect(out.stale).toBeNull()
    expect(out.wrongVersion).toBeNull()
    expect(out.tokenBack).toBeNull() // the fencing token never goes back, even with the right version
    expect((out.final as {record: {renewTime: number}; version: string}).record.renewTime).toBe(2)
    expect(out.journal).toBe('wal')
  })

  it('three processes racing for one lease: every fencing token is won by exactly one of them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-sqlite-'))
    const file = join(dir, 'lease.db')
    const startAt = String(Date.now() + 3000)
    const results = (await Promise.all(['a', 'b', 'c'].map(id => runWorker('race', file, id, '1000', startAt)))) as {identity: string; won: number[]; conflicts: number}[]
    const all = results.flatMap(r => r.won).sort((x, y) => x - y)
    // Contiguous 1..n, no duplicates: no two writers ever won the same transition.
    expect(all).toEqual(Array.from({length: all.length}, (_, i) => i + 1))
    expect(all.length).toBeGreaterThan(1000)
    expect(results.reduce((n, r) => n + r.conflicts, 0)).toBeGreaterThan(0) // they did race
    // Each process's own tokens grow.
    for (const r of results) expect(r.won).toEqual([...r.won].sort((x, y) => x - y))
  }, 90_000)

  it('six processes opening one new lease file at the same moment all open it, and exactly one creates the lease', async () => {
    // Two agents starting together: each switches the new file to WAL and creates the table. SQLite can
    // answer "database is locked" to one of them at once; opening must wait and retry, not fail the agent.
    for (let round = 0; round < 3; round++) {
      dir = mkdtempSync(join(tmpdir(), 'ff-ha-sqlite-'))
      const file = join(dir, 'lease.db')
      const startAt = String(Date.now() + 2500)
      const ids = ['a', 'b', 'c', 'd', 'e', 'f']
      const results = (await Promise.all(ids.map(id => runWorker('open', file, id, '0', startAt)))) as {identity: string; opened: boolean; created: boolean}[]
      expect(results.map(r => r.opened)).toEqual(ids.map(() => true))
      expect(results.filter(r => r.created)).toHaveLength(1)
      rmSync(dir, {recursive: true, force: true})
    }
  }, 90_000)
})
