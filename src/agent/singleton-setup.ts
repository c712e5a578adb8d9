import type {Clock} from './clock.js'
import type {AgentConfig} from './config.js'
import {leaseBackend} from './lease/backends/index.js'
import type {LeaseElector} from './lease/elector.js'
import type {AgentLog} from './log.js'
import {singletonLeaseName} from './singleton-names.js'
import {LeasedSingletons, ReplicaLeaseSingletons, type SingletonSource} from './singletons.js'
import {modeOf} from '../modes/index.js'

/**
 * The agent's singletons: the replica's own lease in a mode with one active (hot-spare), else one lease per
 * singleton name in the profile's lease backend (load-balanced).
 */
export function createSingletons(config: AgentConfig, clock: Clock, log: AgentLog, replicaLease: () => LeaseElector | null): SingletonSource {
  const t = config.timings
  if (modeOf(config.mode).singleActive) return new ReplicaLeaseSingletons(replicaLease, clock, t.retryPeriodMs)
  const backend = leaseBackend(config.lease.backend)
  const poll = backend.candidatePollMs
  const profile = config.profile
  // Where the backend's leases are guarded by a Kubernetes Role, the Role names each lease: only the
  // singletons the profile lists (failover.singletons) were rendered into it.
  const listed = new Set(profile.failover.singletons)
  const rbac = profile.target === 'kubernetes' && (backend.render.kubernetes?.(profile).rbac ?? null) !== null
  return new LeasedSingletons({
    replica: config.replica,
    timings: t,
    candidatePollMs: poll === null ? t.retryPeriodMs : Math.min(poll, t.retryPeriodMs),
    clock,
    log,
    leaseName: name => singletonLeaseName(config.lease.name, name),
    open: leaseName => backend.open({...config.lease, name: leaseName}, config.replica),
    refuse: name =>
      rbac && !listed.has(name)
        ? `singleton "${name}" is not in the profile's failover.singletons: the Kubernetes Role allows only the leases listed there (add it, render and apply again)`
        : null,
  })
}
