import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {skipWithoutEtcd, startEtcd, type EtcdCluster} from '../../../harness/etcd.js'
import {systemClock} from '../../../src/agent/clock.js'
import {EtcdFlowsRecordStore} from '../../../src/agent/flows-record/etcd.js'
import type {FlowsRecord} from '../../../src/agent/flows-record/record.js'
import {openFlowsSync} from '../../../src/agent/flows-sync.js'
import type {LeaseConfig} from '../../../src/agent/lease/backends/index.js'

// The flows record with etcd's own users (auth enabled, on a REAL etcd member): the record store logs in with
// the lease's user and works under a role that covers the whole prefix; an agent whose user may touch only the
// lease's keys (its role names <prefix>lease/ and <prefix>fence/, not <prefix>flows/) is refused (HTTP 403) and
// keeps Node-RED's own storage, saying so once, instead of failing every Deploy. Without etcd this file says
// loudly what did not run (and fails under CI=true or FF_HA_REQUIRE_ETCD=1).
const skip = skipWithoutEtcd('test/integration/flows/etcd-record-auth.test.ts (the flows record with etcd auth)')

const b64 = (s: string) => Buffer.from(s).toString('base64')
const PREFIX = '/auth/'
const record: FlowsRecord = {rev: 'rev-auth', flows: [{id: 'tab', type: 'tab', label: 'auth'}], credentials: null, credentialsChanged: false, origin: 'editor', replica: 'a', at: 1}

describe.skipIf(skip)('the flows record with etcd auth on (real etcd)', () => {
  let etcd: EtcdCluster
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await request(`${etcd.endpoints[0]}${path}`, {method: 'POST', body: JSON.stringify(body), headers: token ? {authorization: token} : {}})
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  // READWRITE on [key, key + 1 in its last byte): every key under that prefix.
  const grantPrefix = async (role: string, prefix: string) => {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
    await post('/v3/auth/role/grant', {name: role, perm: {permType: 'READWRITE', key: b64(prefix), range_end: b64(end)}})
  }
  beforeAll(async () => {
    etcd = await startEtcd(1)
    await post('/v3/auth/role/add', {name: 'root'})
    await post('/v3/auth/user/add', {name: 'root', password: 'r00t-pass-word'})
    await post('/v3/auth/user/grant', {user: 'root', role: 'root'})
    for (const [user, role, prefixes] of [['agent', 'whole', [PREFIX]], ['narrow', 'lease-only', [`${PREFIX}lease/`, `${PREFIX}fence/`]]] as const) {
      await post('/v3/auth/role/add', {name: role})
      for (const p of prefixes) await grantPrefix(role, p)
      await post('/v3/auth/user/add', {name: user, password: `${user}-pass-word`})
      await post('/v3/auth/user/grant', {user, role})
    }
    await post('/v3/auth/enable', {})
  }, 60_000)
  afterAll(async () => {
    await etcd?.destroy()
  })

  it('logs in with the lease\'s user and writes, reads and polls the record under a role on the whole prefix', async () => {
    const s = new EtcdFlowsRecordStore({endpoints: etcd.endpoints, prefix: PREFIX, name: 'auth-leader', auth: {username: 'agent', password: 'agent-pass-word'}})
    try {
      const v = await s.write(record, null)
      expect(v).toMatch(/^[1-9]\d*$/)
      expect(await s.head()).toEqual({version: v, rev: 'rev-auth', origin: 'editor', replica: 'a'})
      expect(await s.read()).toEqual({version: v, record})
    } finally {
      await s.close()
    }
  })

  it('an agent whose etcd user may not touch <prefix>flows/ keeps Node-RED\'s own storage and says why, once', async () => {
    const logs: {event: string; fields?: Record<string, unknown>}[] = []
    const lease = (username: string): LeaseConfig => ({backend: 'etcd', name: 'auth-leader', namespace: 'default', endpoints: etcd.endpoints, prefix: PREFIX, auth: {username, password: `${username}-pass-word`}, operationTimeoutMs: 3000, attemptTimeoutMs: 1000})
    const deps = {admin: {} as never, log: (event: string, fields?: Record<string, unknown>) => void logs.push({event, fields}), clock: systemClock, running: () => false, generation: () => 0}
    const env: Record<string, string> = {}
    const denied = await openFlowsSync({replica: 'a', lease: lease('narrow'), adminToken: 't'.repeat(32), env, timings: {retryPeriodMs: 250}}, 'http://127.0.0.1:1/', deps)
    expect(denied).toBeNull()
    expect(env).toEqual({}) // no commit URL: Node-RED keeps its own storage
    expect(logs).toEqual([{event: 'flows-record', fields: {action: 'disabled', error: expect.stringMatching(/^etcd \/auth\/flows\/auth-leader\/record \(http:\/\/127\.0\.0\.1:\d+\): not allowed \(HTTP 403\); Deploys reach this replica only$/)}}])
    expect(JSON.stringify(logs)).not.toContain('pass-word')

    // The same agent with a user on the whole prefix opens it.
    const allowed = await openFlowsSync({replica: 'a', lease: lease('agent'), adminToken: 't'.repeat(32), env, timings: {retryPeriodMs: 250}}, 'http://127.0.0.1:1/', deps)
    expect(allowed).not.toBeNull()
    await allowed!.stop()
    expect(Object.values(env)).toEqual(['http://127.0.0.1:1/flows-record'])
  })
})
