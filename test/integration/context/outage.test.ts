// PostgreSQL going away while Node-RED runs: writes fail visibly (to callbacks and atomic callers, and a
// plain set is logged), they are not applied later, and the store closes without hanging.
import {afterAll, describe, expect, it} from 'vitest'
import {startPostgres, type PostgresServer} from '../../../src/context/postgres-server.js'
import {POSTGRES_NOT_RUN, createStore, setAsync, until} from './backends.js'

if (POSTGRES_NOT_RUN) it.skip(`NOT RUN: PostgreSQL outage test (${POSTGRES_NOT_RUN})`, () => {})

describe.skipIf(!!POSTGRES_NOT_RUN)('a PostgreSQL outage while running', () => {
  let server: PostgresServer | undefined
  afterAll(() => server?.stop())

  it('fails every later write visibly and logs a plain set, instead of dropping it quietly', async () => {
    server = await startPostgres()
    const logged: string[] = []
    const store = createStore({backend: 'postgres', connectionString: server.connectionString, log: {error: (m: string) => logged.push(m)}})
    await store.open()
    await setAsync(store, 'global', 'k', 1)
    server.stop()
    server = undefined
    await until(() => logged.some(m => /lost PostgreSQL at 127\.0\.0\.1:\d+\/postgres/.test(m)), 'the lost connection to be logged')
    await expect(setAsync(store, 'global', 'k', 2)).rejects.toMatchObject({code: 'FF_HA_UNREACHABLE'})
    await expect(store.get('global', '$atomic').increment('n')).rejects.toMatchObject({code: 'FF_HA_UNREACHABLE'})
    store.set('global', 'k', 3)
    await until(() => logged.some(m => m.startsWith('write of ["k"] in global failed: ff-ha shared context: lost PostgreSQL')), 'the plain set to be logged')
    // the failed writes are not shown as if they had happened
    expect(store.get('global', 'k')).toBe(1)
    await store.close()
  })
})
