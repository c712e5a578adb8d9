// The names of singleton leases (issue #16 point 4), shared by the agent, the profile and render.
//
// A singleton's lease is `<the replica group's lease name>-singleton-<name>`: one lease object per singleton,
// in the same backend (and the same Kubernetes namespace) as the hot-spare lease. The name must be a DNS
// label because on Kubernetes the lease is a Lease object and the Role names each one it may touch.

/** Lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters. */
export const SINGLETON_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export const SINGLETON_NAME_HINT = 'name a singleton with lower-case letters, digits and "-" (at most 63), e.g. "nightly-report"'

/** The lease that a singleton runs on. */
export function singletonLeaseName(base: string, name: string): string {
  return `${base}-singleton-${name}`
}

/**
 * Whether a profile's replicas use its lease backend: always with one active (the replica lease); in
 * load-balanced mode for `ff-ha singleton` nodes: on Compose always (a node can be added to the flows at
 * any time, and a lease file of each replica's own would let every replica hold the singleton), on
 * Kubernetes for the singletons the profile lists (the Role names each lease).
 */
export function replicasUseLease(profile: {mode: string; target: string; failover: {singletons: string[]}}, singleActive: boolean): boolean {
  return singleActive || profile.target === 'compose' || profile.failover.singletons.length > 0
}
