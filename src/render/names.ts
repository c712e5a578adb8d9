import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {packageRoot} from '../paths.js'
import type {Profile} from '../profile/schema.js'

// Names and paths that the renderers, the agent, deploy discovery and the drill agree on.

/** Replica names: `<name>-0`, `<name>-1`, ... (the StatefulSet's pod names; the Compose service names). */
export function replicaNames(profile: Pick<Profile, 'name' | 'replicas'>): string[] {
  return Array.from({length: profile.replicas}, (_, i) => `${profile.name}-${i}`)
}

/** The Kubernetes Lease the agents elect a leader with (the agent's default; the Role allows only this one). */
export function leaseName(profile: Pick<Profile, 'name'>): string {
  return `${profile.name}-leader`
}

/** Inside every replica container. */
export const CONTAINER = {
  configDir: '/etc/ff-ha',
  profile: '/etc/ff-ha/ff-ha.yaml',
  settings: '/etc/ff-ha/settings.js',
  userDir: '/data',
} as const

/** The directory of the sqlite lease file: the volume that all replicas on one host share. */
export function leaseDir(profile: Profile): string {
  return dirname(profile.failover.leaseFile)
}

/** Files in the rendered tree (relative to --out). */
export const RENDERED = {
  settings: 'node-red/settings.js',
  profile: 'profile/ff-ha.yaml',
  dockerfile: 'Dockerfile',
  haproxy: 'haproxy/haproxy.cfg',
  mosquitto: 'mosquitto/mosquitto.conf',
  compose: 'compose.yaml',
  kustomization: 'kustomization.yaml',
} as const

/** Compose service labels that deploy discovery can select replicas by. */
export const COMPOSE_LABELS = {replica: 'io.ff-ha.replica', profile: 'io.ff-ha.profile'} as const

/** The version of this CLI: the replica image installs the same ff-ha. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version
}

/** The replica image: the profile's own, or the one built from the rendered Dockerfile. */
export function replicaImage(profile: Profile, version = cliVersion()): string {
  return profile.nodeRed.image ?? `${profile.name}-node-red:${profile.nodeRed.version}-ff-ha${version}`
}
