import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {packageRoot} from '../paths.js'
import type {Profile} from '../profile/schema.js'

// Names in the rendered tree. What the agent, deploy discovery and the drill share with render lives in
// src/model (replica names, labels) and src/paths.ts (container paths); re-exported for the renderers.
export {CONTAINER} from '../paths.js'
export {COMPOSE_LABELS, leaseName, replicaNames} from '../model/replicas.js'

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


/** The version of this CLI: the replica image installs the same ff-ha. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version
}

/** The replica image: the profile's own, or the one built from the rendered Dockerfile. */
export function replicaImage(profile: Profile, version = cliVersion()): string {
  return profile.nodeRed.image ?? `${profile.name}-node-red:${profile.nodeRed.version}-ff-ha${version}`
}
