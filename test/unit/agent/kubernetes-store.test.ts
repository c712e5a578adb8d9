import {afterEach, describe, expect, it} from 'vitest'
import type {V1Lease} from '@kubernetes/client-node'
import {KubernetesLeaseStore, type LeaseApi} from '../../../src/agent/lease/kubernetes.js'
import {LeaseElector} from '../../../src/agent/lease/elector.js'
import {ApiStatus, decodeLease, FakeLeaseServer} from './fake-lease-api.js'
import {FakeClock} from './fakes.js'

// Against a FAKE Lease API server on 127.0.0.1 (fake-lease-api.ts), reached through @kubernetes/client-node's
// real CoordinationV1Api: no Kubernetes API server runs here. The fake decodes bodies as the API server does.
const NS = 'prod'
const NAME = 'flows-leader'
const rec = (holder: string | null, transitions: number) => ({holder, leaseDurationMs: 15_000, acquireTime: 1_800_000_000_000, renewTime: 1_800_000_000_500, transitions})
const SIX_DIGITS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

const servers: FakeLeaseServer[] = []
async function fakeApi(): Promise<{fake: FakeLeaseServer; api: LeaseApi}> {
  const fake = new FakeLeaseServer()
  servers.push(fake)
  return {fake, api: await fake.start()}
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.stop()))
})

/** A Lease body as JSON text with one spec field replaced. */
function leaseText(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string {
  return JSON.stringify({apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: NAME, ...metadata}, spec: {holderIdentity: 'pod-a', leaseDurationSeconds: 15, ...spec}})
}
function decodeError(text: string): {code: number; body: Record<string, any>} | null {
  try {
    decodeLease(text)
    return null
  } catch (err) {
    if (err instanceof ApiStatus) return {code: err.code, body: err.body}
    throw err
  }
}

describe('the fake Lease API decodes like the API server', () => {
  it('MicroTime: exactly six fractional digits (micro_time.go, time.Parse RFC3339Micro), else 400', () => {
    for (const ok of ['2027-01-15T08:00:00.500000Z', '2027-01-15T10:00:00.500000+02:00', null]) {
      expect(decodeError(leaseText({renewTime: ok})), String(ok)).toBeNull()
    }
    for (const bad of ['2027-01-15T08:00:00.500Z', '2027-01-15T08:00:00Z', '2027-01-15T08:00:00.500000000Z', '2027-01-15T08:00:00.500000', '2027-02-30T08:00:00.500000Z', 1800000000500]) {
      const err = decodeError(leaseText({acquireTime: bad}))
      expect(err?.code, String(bad)).toBe(400)
      expect(err?.body).toMatchObject({kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400})
      expect(err?.body.message).toMatch(/^Lease in version "v1" cannot be handled as a Lease: /)
    }
    expect(decodeError(leaseText({renewTime: '2025-03-01T10:00:00.123Z'}))?.body.message).toContain('cannot parse ".123Z" as ".000000"')
  })

  it('Time: RFC3339 with seconds, any fraction allowed (time.go), else 400', () => {
    for (const ok of ['2027-01-15T08:00:00Z', '2027-01-15T08:00:00.123Z', '2027-01-15T08:00:00+01:00']) {
      expect(decodeError(leaseText({}, {creationTimestamp: ok})), ok).toBeNull()
    }
    for (const bad of ['2027-01-15T08:00Z', '2027-01-15 08:00:00Z', '2027-01-15T08:00:00']) {
      expect(decodeError(leaseText({}, {creationTimestamp: bad}))?.code, bad).toBe(400)
    }
  })

  it('int32 fields: integers in range, else 400; then validation: leaseDurationSeconds > 0, leaseTransitions >= 0, else 422', () => {
    expect(decodeError(leaseText({leaseTransitions: 2 ** 31 - 1}))).toBeNull()
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, '3']) {
      const err = decodeError(leaseText({leaseTransitions: bad}))
      expect(err?.code, String(bad)).toBe(400)
      expect(err?.body.message).toContain('LeaseSpec.spec.leaseTransitions of type int32')
    }
    const invalid = decodeError(leaseText({leaseDurationSeconds: 0, leaseTransitions: -1}))
    expect(invalid?.code).toBe(422)
    expect(invalid?.body).toMatchObject({
      reason: 'Invalid',
      details: {name: NAME, group: 'coordination.k8s.io', kind: 'Lease', causes: [{reason: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds'}, {reason: 'FieldValueInvalid', field: 'spec.leaseTransitions'}]},
    })
    expect(invalid?.body.message).toBe('Lease.coordination.k8s.io "flows-leader" is invalid: [spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0, spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]')
  })

  it('resourceVersion must be a string; a number is a 400', () => {
    expect(decodeError(leaseText({}, {resourceVersion: 'anything-opaque'}))).toBeNull()
    expect(decodeError(leaseText({}, {resourceVersion: 17}))?.code).toBe(400)
  })

  it('a Lease with plain Date times (milliseconds), as the store wrote it before the fix, is refused with 400 by the real client path', async () => {
    const {api} = await fakeApi()
    const body: V1Lease = {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: NAME}, spec: {holderIdentity: 'pod-a', leaseDurationSeconds: 15, renewTime: new Date(1_800_000_000_500)}}
    const err = await api.createNamespacedLease({namespace: NS, body}).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 400})
    expect(JSON.parse((err as {body: string}).body)).toMatchObject({kind: 'Status', reason: 'BadRequest', code: 400})
    expect((err as {body: string}).body).toContain('cannot parse \\".500Z\\" as \\".000000\\"')
  })
})

describe('KubernetesLeaseStore against the fake Lease API', () => {
  it('creates a Lease whose times are MicroTime on the wire, and reads it back as the same record', async () => {
    const {fake, api} = await fakeApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    expect(await store.read()).toEqual({record: null, version: null})
    const version = await store.write(rec('pod-a', 1), null)
    expect(version).toEqual(expect.any(String))
    const [create] = fake.requests.filter(r => r.verb === 'create')
    expect(create.body?.spec.acquireTime).toMatch(SIX_DIGITS)
    expect(create.body?.spec.renewTime).toBe('2027-01-15T08:00:00.500000Z')
    expect(fake.stored(NS, NAME)).toMatchObject({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: NAME, namespace: NS},
      spec: {holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 1, renewTime: '2027-01-15T08:00:00.500000Z'},
    })
    expect(await store.read()).toEqual({version, record: rec('pod-a', 1)})
  })

  it('every replace the store sends decodes (the read metadata it carries back included), and carries the opaque version unchanged', async () => {
    const {fake, api} = await fakeApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    let version = await store.write(rec('pod-a', 1), null)
    for (let i = 0; i < 3; i++) {
      const seen = await store.read()
      expect(seen.version).toBe(version)
      expect(seen.version).not.toMatch(/^\d+$/)
      version = await store.write({...rec('pod-a', 1), renewTime: 1_800_000_002_000 + i * 2000}, seen.version)
      expect(version).not.toBeNull()
    }
    const updates = fake.requests.filter(r => r.verb === 'update')
    expect(updates).toHaveLength(3)
    for (const u of updates) {
      expect(() => decodeLease(u.text!)).not.toThrow()
      // The Time fields read back (creationTimestamp, managedFields[].time) went out again as the client writes them.
      expect(u.body?.metadata.managedFields[0].time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/)
      expect(u.body?.spec.renewTime).toMatch(SIX_DIGITS)
    }
  })

  it('reads a Lease that client-go wrote (microseconds, another holder) as that holder\'s record', async () => {
    const {fake, api} = await fakeApi()
    fake.seed(NS, leaseText({holderIdentity: 'other-pod', leaseTransitions: 4, acquireTime: '2027-01-15T08:00:00.000000Z', renewTime: '2027-01-15T08:00:00.500123Z'}))
    const store = new KubernetesLeaseStore(api, NS, NAME)
    expect((await store.read()).record).toEqual({holder: 'other-pod', leaseDurationMs: 15_000, acquireTime: 1_800_000_000_000, renewTime: 1_800_000_000_500, transitions: 4})
  })

  it('404-then-create race: two candidates both see no Lease and both create; exactly one wins', async () => {
    const {fake, api} = await fakeApi()
    const a = new KubernetesLeaseStore(api, NS, NAME)
    const b = new KubernetesLeaseStore(api, NS, NAME)
    expect((await a.read()).version).toBeNull()
    expect((await b.read()).version).toBeNull()
    // b's create lands while a's is on its way.
    fake.beforeCreate = async () => {
      expect(await b.write(rec('pod-b', 1), null)).not.toBeNull()
    }
    expect(await a.write(rec('pod-a', 1), null)).toBeNull() // 409 AlreadyExists: a conflict, read again
    expect((await a.read()).record?.holder).toBe('pod-b')
  })

  it('writes with the resourceVersion read: a stale version gets 409 Conflict and counts as a conflict', async () => {
    const {fake, api} = await fakeApi()
    const a = new KubernetesLeaseStore(api, NS, NAME)
    const b = new KubernetesLeaseStore(api, NS, NAME)
    await a.write(rec('pod-a', 1), null)
    const seenByA = await a.read()
    const seenByB = await b.read()
    expect(await b.write(rec('pod-b', 2), seenByB.version)).not.toBeNull()
    expect(await a.write(rec('pod-a', 1), seenByA.version)).toBeNull()
    expect(fake.stored(NS, NAME)?.spec).toMatchObject({holderIdentity: 'pod-b', leaseTransitions: 2})
  })

  it('404, 409 AlreadyExists and 409 Conflict reach the client as the API server\'s Status bodies', async () => {
    const {api} = await fakeApi()
    const body = (e: unknown) => JSON.parse((e as {body: string}).body)
    const lease = (rv?: string): V1Lease => ({apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: NAME, ...(rv ? {resourceVersion: rv} : {})}, spec: {holderIdentity: 'x', leaseDurationSeconds: 15}})
    const notFound = await api.readNamespacedLease({name: NAME, namespace: NS}).catch((e: unknown) => e)
    expect(notFound).toMatchObject({code: 404})
    expect(body(notFound)).toEqual({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `leases.coordination.k8s.io "${NAME}" not found`, reason: 'NotFound', details: {name: NAME, group: 'coordination.k8s.io', kind: 'leases'}, code: 404})
    await api.createNamespacedLease({namespace: NS, body: lease()})
    expect(body(await api.createNamespacedLease({namespace: NS, body: lease()}).catch((e: unknown) => e))).toMatchObject({reason: 'AlreadyExists', code: 409, message: `leases.coordination.k8s.io "${NAME}" already exists`})
    const stale = body(await api.replaceNamespacedLease({name: NAME, namespace: NS, body: lease('rv-stale')}).catch((e: unknown) => e))
    expect(stale).toMatchObject({reason: 'Conflict', code: 409, details: {name: NAME, group: 'coordination.k8s.io', kind: 'leases'}})
    expect(stale.message).toBe(`Operation cannot be fulfilled on leases.coordination.k8s.io "${NAME}": the object has been modified; please apply your changes to the latest version and try again`)
  })

  it('a release writes an empty holderIdentity, read back as "nobody holds it"', async () => {
    const {fake, api} = await fakeApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    const v = await store.write(rec('pod-a', 3), null)
    await store.read()
    await store.write(rec(null, 3), v)
    expect(fake.stored(NS, NAME)?.spec.holderIdentity).toBe('')
    expect((await store.read()).record).toMatchObject({holder: null, transitions: 3})
  })

  it('other API errors (403: RBAC; 400: a body the server cannot decode) are errors, not conflicts', async () => {
    const {fake, api} = await fakeApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    fake.failNext = 403
    await expect(store.read()).rejects.toMatchObject({code: 403})
    await expect(store.write({...rec('pod-a', 1), leaseDurationMs: 2 ** 31 * 1000}, null)).rejects.toMatchObject({code: 400})
  })

  it('two electors on the fake API with the Kubernetes timings: takeover after 15 s of silence, token = leaseTransitions', async () => {
    const {fake, api} = await fakeApi()
    const clock = new FakeClock()
    const timings = {leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000}
    const log: string[] = []
    const mk = (id: string) => new LeaseElector(new KubernetesLeaseStore(api, NS, NAME), id, timings, clock, {
      onAcquired: t => log.push(`${id} acquired ${t}`),
      onLost: r => log.push(`${id} lost ${r}`),
      onStoreError: e => log.push(`${id} error ${(e as Error).message}`),
    })
    const a = mk('pod-a')
    const b = mk('pod-b')
    await a.tick(() => true)
    await b.tick(() => true)
    for (let i = 0; i < 5; i++) {
      clock.advance(2000)
      await a.tick(() => true)
      await b.tick(() => true)
    }
    expect(log).toEqual(['pod-a acquired 1'])
    let waited = 0
    while (!log.includes('pod-b acquired 2') && waited < 30_000) {
      clock.advance(2000)
      waited += 2000
      await b.tick(() => true)
    }
    expect(waited).toBeGreaterThanOrEqual(14_000)
    expect(waited).toBeLessThanOrEqual(18_000)
    expect(fake.stored(NS, NAME)?.spec).toMatchObject({holderIdentity: 'pod-b', leaseTransitions: 2, leaseDurationSeconds: 15})
    a.checkDeadline()
    expect(log).toContain('pod-a lost renew-deadline')
  })
})
