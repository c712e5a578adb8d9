// The two backends the conformance tests run against. PostgreSQL is started by the tests (a throwaway
// server); where its binaries are absent the PostgreSQL half is reported as NOT RUN, loudly, with the fix.
import {mkdtempSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {postgresMissing, startPostgres, type PostgresServer} from '../../../src/context/postgres-server.js'

const require = createRequire(import.meta.url)
// The plugin is CommonJS because Node-RED require()s it from settings.js.
export const createStore = require('../../../nodes/context/store') as (config: Record<string, unknown>) => Store

export interface Atomic {
  increment(key: string, by?: number): Promise<number>
  compareAndSet(key: string, expected: unknown, value: unknown): Promise<{ok: boolean; value: unknown}>
  append(key: string, value: unknown): Promise<number>
  refusals(): Promise<{count: number; lastToken: number | null}>
}
export interface Store {
  open(): Promise<void>
  close(): Promise<void>
  get(scope: string, key: string | string[], cb?: (err: Error | undefined, ...values: unknown[]) => void): any
  set(scope: string, key: string | string[], value: unknown, cb?: (err: Error | null) => void): void
  keys(scope: string, cb?: (err: Error | null, keys?: string[]) => void): string[] | undefined
  delete(scope: string): Promise<void>
  clean(active: string[]): Promise<void>
  fence(token: number | bigint): Promise<void>
}

export interface Backend {
  name: 'sqlite' | 'postgres'
  /** Config for a store on this backend (one database per backend and test file). */
  config(extra?: Record<string, unknown>): Record<string, unknown>
  stop(): void
}

export const POSTGRES_NOT_RUN = postgresMissing()
if (POSTGRES_NOT_RUN) {
  const line = `NOT RUN: the PostgreSQL backend tests. ${POSTGRES_NOT_RUN}`
  // Where they must run (CI, which installs PostgreSQL), a missing server fails the files instead of skipping them.
  if (process.env.CI === 'true' || process.env.FF_HA_REQUIRE_POSTGRES === '1') throw new Error(line)
  console.warn(`\n*** ${line} ***\n`)
}

export async function startBackend(name: 'sqlite' | 'postgres'): Promise<Backend> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-ctx-'))
    return {name, config: extra => ({backend: 'sqlite', path: join(dir, 'context.db'), ...extra}), stop: () => rmSync(dir, {recursive: true, force: true})}
  }
  const server: PostgresServer = await startPostgres()
  return {name, config: extra => ({backend: 'postgres', connectionString: server.connectionString, ...extra}), stop: () => server.stop()}
}

/** The backends to run: sqlite always, PostgreSQL when its binaries are here. */
export const BACKENDS: Array<'sqlite' | 'postgres'> = POSTGRES_NOT_RUN ? ['sqlite'] : ['sqlite', 'postgres']

export function getAsync(store: Store, scope: string, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => store.get(scope, key, (err, value) => (err ? reject(err) : resolve(value))))
}

export function setAsync(store: Store, scope: string, key: string | string[], value: unknown): Promise<void> {
  return new Promise((resolve, reject) => store.set(scope, key, value, err => (err ? reject(err) : resolve())))
}

/** Wait until fn() is true (for the PostgreSQL cache, which follows other writers by notification). */
export async function until(fn: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 10))
  }
}
