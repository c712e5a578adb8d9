import {describe, expect, it} from 'vitest'
import {DEFAULT_TIMINGS} from '../../../src/profile/defaults.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {didYouMean, editDistance} from '../../../src/profile/suggest.js'

describe('defaults that depend on other fields', () => {
  it('compose takes the sqlite lease and its short timings; kubernetes the Lease API and client-go-like timings', () => {
    const compose = parseProfileText('name: a\n')
    expect(compose.failover).toMatchObject({lease: 'sqlite', ...DEFAULT_TIMINGS.sqlite, statusPort: 9880, leaseFile: '/var/lib/ff-ha/lease.db'})
    const k8s = parseProfileText('name: a\ntarget: kubernetes\n')
    expect(k8s.failover).toMatchObject({lease: 'kubernetes', leaseDurationMs: 15000, renewDeadlineMs: 10000, retryPeriodMs: 2000})
  })

  it('the default timings keep the lease invariants: leaseDuration > renewDeadline > 1.2 x retryPeriod', () => {
    for (const t of Object.values(DEFAULT_TIMINGS)) {
      expect(t.leaseDurationMs).toBeGreaterThan(t.renewDeadlineMs)
      expect(t.renewDeadlineMs).toBeGreaterThan(t.retryPeriodMs * 1.2)
      expect(t.healthTimeoutMs).toBeLessThanOrEqual(t.healthIntervalMs)
    }
  })

  it('a timing the user sets replaces only that one', () => {
    const p = parseProfileText('name: a\ntarget: kubernetes\nfailover:\n  leaseDurationMs: 20000\n')
    expect(p.failover.leaseDurationMs).toBe(20000)
    expect(p.failover.renewDeadlineMs).toBe(10000)
  })

  it('share group, compose project and the Kubernetes Secret default to the name', () => {
    const p = parseProfileText('name: line-7\n')
    expect([p.mqtt.shareGroup, p.compose.project, p.secrets.kubernetesSecret]).toEqual(['line-7', 'line-7', 'line-7-secrets'])
    const q = parseProfileText('name: a\nmqtt: {shareGroup: g}\ncompose: {project: p}\nsecrets: {kubernetesSecret: s}\n')
    expect([q.mqtt.shareGroup, q.compose.project, q.secrets.kubernetesSecret]).toEqual(['g', 'p', 's'])
  })

  it('nested sections left out get their own defaults', () => {
    const p = parseProfileText('name: a\n')
    expect(p.kubernetes.resources).toEqual({requests: {cpu: '100m', memory: '256Mi'}, limits: {memory: '512Mi'}})
    expect(p.compose.ports).toEqual({http: 1880, replicaHttp: 18801, replicaStatus: 19881, mqtt: 1883})
    expect(p.compose.memory).toEqual({replica: '512m', haproxy: '128m', mosquitto: '128m'})
    expect(p.http).toEqual({port: 1880, editor: true, sticky: true})
  })
})

describe('did you mean', () => {
  it('suggests the closest known key within a small distance, case-insensitively', () => {
    expect(didYouMean('replica', ['name', 'replicas', 'mode'])).toBe('replicas')
    expect(didYouMean('LeaseDuration', ['leaseDurationMs', 'lease'])).toBe('leaseDurationMs')
    expect(didYouMean('zzz', ['maxMttrMs', 'maxLostMessages'])).toBeUndefined()
  })

  it('edit distance counts insertions, deletions and substitutions', () => {
    expect(editDistance('stiky', 'sticky')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
  })
})
