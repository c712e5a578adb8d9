import {describe, expect, it} from 'vitest'
import {LEASE_BACKENDS, LEASE_BACKEND_IDS, defaultLeaseBackend} from '../../../src/agent/lease/backends/index.js'
import {leaseTimingProblems} from '../../../src/agent/lease/machine.js'
import {openLeaseStore} from '../../../src/agent/lease/open.js'
import type {AgentConfig} from '../../../src/agent/config.js'
import {failoverSchema} from '../../../src/profile/schema.js'

describe('the lease backend registry', () => {
  it('the profile\'s failover.lease enum is the registry\'s ids, and every backend\'s fields are in the failover section', () => {
    expect(LEASE_BACKEND_IDS).toEqual(['sqlite', 'kubernetes', 'etcd'])
    expect(failoverSchema.shape.lease.unwrap().options).toEqual(LEASE_BACKEND_IDS)
    for (const b of LEASE_BACKENDS) for (const field of Object.keys(b.profileFields)) expect(Object.keys(failoverSchema.shape)).toContain(field)
  })

  it('every backend\'s default timings keep the lease invariants, and each target has exactly one default backend', () => {
    for (const b of LEASE_BACKENDS) expect(leaseTimingProblems(b.defaultTimings)).toEqual([])
    expect(defaultLeaseBackend('compose')).toBe('sqlite')
    expect(defaultLeaseBackend('kubernetes')).toBe('kubernetes')
    for (const target of ['compose', 'kubernetes'] as const) expect(LEASE_BACKENDS.filter(b => b.defaultFor === target)).toHaveLength(1)
  })

  it('each backend renders pieces for exactly the targets it serves', () => {
    for (const b of LEASE_BACKENDS) {
      expect(Object.keys(b.render).sort()).toEqual([...b.targets].sort())
    }
  })

  it('opens the backend the config names, never another: kubernetes gives a Lease store, an unknown id is refused (no fall-through to sqlite)', async () => {
    const config = {replica: 'r1', lease: {backend: 'kubernetes', name: 'x-leader', namespace: 'default'}} as unknown as AgentConfig
    const store = await openLeaseStore(config)
    expect(store.describe).toBe('kubernetes lease default/x-leader')
    await store.close()
    const unknown = {...config, lease: {...config.lease, backend: 'zookeeper'}} as unknown as AgentConfig
    await expect(openLeaseStore(unknown)).rejects.toThrow(/no lease backend "zookeeper"/)
  })
})
