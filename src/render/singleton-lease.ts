import {defaultLeaseName} from '../agent/lease/backends/index.js'
import type {ComposeLeasePiece, KubernetesLeasePiece} from '../agent/lease/backends/types.js'
import {replicasUseLease, singletonLeaseName} from '../agent/singleton-names.js'
import {modeOf} from '../modes/index.js'
import type {Profile} from '../profile/schema.js'

// What the lease pieces become when replicas hold no replica lease (load-balanced) but may run `ff-ha
// singleton` nodes, each on a lease of its own (docs/design/singleton.md).

/**
 * Compose: always the backend's piece. A singleton node can be added to the flows at any time (lint --fix
 * does it), and without the shared lease volume each replica would open a lease file of its own and all of
 * them would hold the singleton: the one failure a singleton must not have.
 */
export function composeLeasePiece(piece: () => ComposeLeasePiece): ComposeLeasePiece {
  return piece()
}

/**
 * Kubernetes: a Role names each Lease it allows, so only the singletons the profile lists
 * (failover.singletons) get one; with none listed the pods keep no service account token. A singleton
 * not listed is refused by the API server, and the agent says so on the node (it never passes).
 */
export function kubernetesLeasePiece(profile: Profile, piece: () => KubernetesLeasePiece): KubernetesLeasePiece | null {
  if (modeOf(profile.mode).singleActive) return piece()
  const names = profile.failover.singletons
  if (names.length === 0) return null
  const p = piece()
  return {...p, rbac: p.rbac ? {resourceNames: names.map(n => singletonLeaseName(defaultLeaseName(profile), n))} : null}
}

/** Whether the pods talk to the API server for a lease: the replica lease, or listed singletons. */
export function podsUseLeaseApi(profile: Profile): boolean {
  return replicasUseLease(profile, modeOf(profile.mode).singleActive)
}
