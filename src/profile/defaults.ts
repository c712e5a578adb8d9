import type {LeaseBackend, ParsedProfile, Profile, Timings} from './schema.js'

// Timings per lease backend. One host (sqlite): a file lock costs microseconds, so short timings give a
// takeover in a few hundred ms. Kubernetes: every renew is an API-server write shared with the whole
// cluster, and etcd latency spikes of a second happen, so client-go's conservative defaults (15 s / 10 s /
// 2 s) are the right start; health checks also back off to what kubelet probes do.
// Invariant (client-go): leaseDuration > renewDeadline > 1.2 x retryPeriod.
export const DEFAULT_TIMINGS: Record<LeaseBackend, Timings> = {
  sqlite: {
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 200,
    healthIntervalMs: 250,
    healthTimeoutMs: 200,
    healthFailureThreshold: 3,
  },
  kubernetes: {
    leaseDurationMs: 15000,
    renewDeadlineMs: 10000,
    retryPeriodMs: 2000,
    healthIntervalMs: 2000,
    healthTimeoutMs: 1000,
    healthFailureThreshold: 3,
  },
}

export function defaultLeaseBackend(target: ParsedProfile['target']): LeaseBackend {
  return target === 'kubernetes' ? 'kubernetes' : 'sqlite'
}

/** Fill in the defaults that depend on other fields. Pure. */
export function resolveProfile(parsed: ParsedProfile): Profile {
  const lease = parsed.failover.lease ?? defaultLeaseBackend(parsed.target)
  const base = DEFAULT_TIMINGS[lease]
  const f = parsed.failover
  const timings: Timings = {
    leaseDurationMs: f.leaseDurationMs ?? base.leaseDurationMs,
    renewDeadlineMs: f.renewDeadlineMs ?? base.renewDeadlineMs,
    retryPeriodMs: f.retryPeriodMs ?? base.retryPeriodMs,
    healthIntervalMs: f.healthIntervalMs ?? base.healthIntervalMs,
    healthTimeoutMs: f.healthTimeoutMs ?? base.healthTimeoutMs,
    healthFailureThreshold: f.healthFailureThreshold ?? base.healthFailureThreshold,
  }
  return {
    ...parsed,
    failover: {...f, ...timings, lease},
    mqtt: {...parsed.mqtt, shareGroup: parsed.mqtt.shareGroup ?? parsed.name},
    compose: {...parsed.compose, project: parsed.compose.project ?? parsed.name},
    secrets: {...parsed.secrets, kubernetesSecret: parsed.secrets.kubernetesSecret ?? `${parsed.name}-secrets`},
  }
}
