import {LEASE_BACKENDS, defaultLeaseBackend} from '../agent/lease/backends/index.js'
import type {LeaseBackend, ParsedProfile, Profile, Timings} from './schema.js'

export {defaultLeaseBackend}

// Timings per lease backend: each backend's module says why its own are what they are.
// Invariant (client-go): leaseDuration > renewDeadline > 1.2 x retryPeriod.
export const DEFAULT_TIMINGS = Object.fromEntries(LEASE_BACKENDS.map(b => [b.id, b.defaultTimings])) as Record<LeaseBackend, Timings>

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
