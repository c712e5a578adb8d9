// Names that the renderers, the agent, deploy discovery and the drill agree on.

/** Replica names: `<name>-0`, `<name>-1`, ... (the StatefulSet's pod names; the Compose service names). */
export function replicaNames(profile: {name: string; replicas: number}): string[] {
  return Array.from({length: profile.replicas}, (_, i) => `${profile.name}-${i}`)
}

/** The lease the agents elect a leader with (the agent's default; the Kubernetes Role allows only this one). */
export function leaseName(profile: {name: string}): string {
  return `${profile.name}-leader`
}

/** Compose service labels that deploy discovery can select replicas by. */
export const COMPOSE_LABELS = {replica: 'io.ff-ha.replica', profile: 'io.ff-ha.profile'} as const

/** The labels that select a profile's pods (the StatefulSet's selector; deploy discovery lists pods by them). */
export function selectorLabels(profile: {name: string}): Record<string, string> {
  return {'app.kubernetes.io/name': 'node-red', 'app.kubernetes.io/instance': profile.name}
}
