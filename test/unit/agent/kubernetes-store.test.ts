import {describe, expect, it} from 'vitest'
import {Lease} from 'kubernetes-models/coordination.k8s.io/v1'
import {KubernetesLeaseStore} from '../../../src/agent/lease/kubernetes.js'
import {LeaseElector} from '../../../src/agent/lease/elector.js'
import {FakeLeaseApi} from './fake-lease-api.js'
import {FakeClock} from './fakes.js'

// Against an in-memory FAKE of the Lease API (fake-lease-api.ts): no API server runs here.
const NS = 'prod'
const NAME = 'flows-leader'
const rec = (holder: string | null, transitions: number) => ({holder, leaseDurationMs: 15_000, acquireTime: 1_800_000_000_000, renewTime: 1_800_000_000_500, transitions})

describe('KubernetesLeaseStore against a fake Lease API', () => {
  it('creates a Lease that passes kubernetes-models validation, and reads it back as a record', async () => {
    const api = new FakeLeaseApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    expect(await store.read()).toEqual({record: null, version: null})
    const version = await store.write(rec('pod-a', 1), null)
    expect(version).toMatch(/^\d+$/)
    const wire = api.stored(NS, NAME)!
    expect(() => new Lease(wire as ConstructorParameters<typeof Lease>[0]).validate()).not.toThrow()
    expect(wire).toMatchObject({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: NAME, namespace: NS},
      spec: {holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 1, renewTime: '2027-01-15T08:00:00.500Z'},
    })
    expect(await store.read()).toEqual({version, record: rec('pod-a', 1)})
  })

  it('404-then-create race: two candidates both see no Lease and both create; exactly one wins', async () => {
    const api = new FakeLeaseApi()
    const a = new KubernetesLeaseStore(api, NS, NAME)
    const b = new KubernetesLeaseStore(api, NS, NAME)
    expect((await a.read()).version).toBeNull()
    expect((await b.read()).version).toBeNull()
    // b's create lands while a's is on its way.
    api.beforeCreate = async () => {
      expect(await b.write(rec('pod-b', 1), null)).not.toBeNull()
    }
    expect(await a.write(rec('pod-a', 1), null)).toBeNull() // 409 AlreadyExists: a conflict, read again
    expect((await a.read()).record?.holder).toBe('pod-b')
  })

  it('writes with the resourceVersion read: a stale version gets 409 and counts as a conflict', async () => {
    const api = new FakeLeaseApi()
    const a = new KubernetesLeaseStore(api, NS, NAME)
    const b = new KubernetesLeaseStore(api, NS, NAME)
    await a.write(rec('pod-a', 1), null)
    const seenByA = await a.read()
    const seenByB = await b.read()
    expect(await b.write(rec('pod-b', 2), seenByB.version)).not.toBeNull()
    expect(await a.write(rec('pod-a', 1), seenByA.version)).toBeNull()
    const updates = api.requests.filter(r => r.verb === 'update')
    expect(updates.every(r => typeof r.body?.metadata?.resourceVersion === 'string')).toBe(true)
    expect(api.stored(NS, NAME)?.spec).toMatchObject({holderIdentity: 'pod-b', leaseTransitions: 2})
  })

  it('a release writes an empty holderIdentity, read back as "nobody holds it"', async () => {
    const api = new FakeLeaseApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    const v = await store.write(rec('pod-a', 3), null)
    await store.read()
    await store.write(rec(null, 3), v)
    expect(api.stored(NS, NAME)?.spec.holderIdentity).toBe('')
    expect((await store.read()).record).toMatchObject({holder: null, transitions: 3})
  })

  it('other API errors (403: RBAC) are errors, not conflicts', async () => {
    const api = new FakeLeaseApi()
    const store = new KubernetesLeaseStore(api, NS, NAME)
    api.failNext = 403
    await expect(store.read()).rejects.toMatchObject({code: 403})
  })

  it('two electors on the fake API with the Kubernetes timings: takeover after 15 s of silence, token = leaseTransitions', async () => {
    const api = new FakeLeaseApi()
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
    expect(api.stored(NS, NAME)?.spec).toMatchObject({holderIdentity: 'pod-b', leaseTransitions: 2, leaseDurationSeconds: 15})
    a.checkDeadline()
    expect(log).toContain('pod-a lost renew-deadline')
  })
})
