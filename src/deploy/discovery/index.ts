import type {ReplicaTarget} from '../../admin/types.js'
import {InputError} from '../../errors.js'
import type {Profile} from '../../profile/schema.js'
import {selectorLabels} from '../../model/replicas.js'
import {discoverCompose} from './compose.js'
import {discoverKubernetes} from './kubernetes.js'
import {DEFAULT_CLUSTER_FILE, readClusterFile} from './local.js'
import {parseTargets} from './targets.js'

export type DiscoverySource = 'targets' | 'static' | 'compose' | 'kubernetes' | 'local'

export interface DiscoveryOptions {
  /** --target values: they win over everything else. */
  targets?: string[]
  profile?: Profile
  /** Override the profile's deploy.discovery. */
  source?: Exclude<DiscoverySource, 'targets'>
  clusterFile?: string
  /** For the docker / kubectl children (tests put fakes on PATH). */
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
}

export interface DiscoveredReplicas {
  source: DiscoverySource
  replicas: ReplicaTarget[]
  /** Release what discovery holds open (kubectl port-forwards). Call it when the deploy is done. */
  close(): Promise<void>
}

const nothing = async () => {}

/**
 * Where the replicas are: --target URLs, else the profile's deploy.discovery (default: a static list when
 * deploy.replicas is set, else the profile's target), or the local cluster file of `ff-ha failover-test`.
 */
export async function discoverReplicas(options: DiscoveryOptions): Promise<DiscoveredReplicas> {
  if (options.targets && options.targets.length > 0) return {source: 'targets', replicas: parseTargets(options.targets), close: nothing}
  const profile = options.profile
  const source = options.source ?? profile?.deploy.discovery ?? (profile?.deploy.replicas ? 'static' : profile?.target)
  const tool = {env: options.env, cwd: options.cwd, timeoutMs: options.timeoutMs}
  switch (source) {
    case 'local':
      return {source, replicas: readClusterFile(options.clusterFile ?? DEFAULT_CLUSTER_FILE), close: nothing}
    case 'static': {
      const replicas = profile?.deploy.replicas ?? []
      if (replicas.length === 0) throw new InputError('profile: deploy.discovery is static but deploy.replicas is empty', 'list the replicas under deploy.replicas (name, url, agentUrl)')
      return {source, replicas: replicas.map(r => ({...r})), close: nothing}
    }
    case 'compose': {
      const p = need(profile, 'compose')
      const replicas = await discoverCompose({...tool, project: p.compose.project, name: p.name, port: p.http.port, statusPort: p.failover.statusPort, adminRoot: p.nodeRed.adminRoot})
      return {source, replicas, close: nothing}
    }
    case 'kubernetes': {
      const p = need(profile, 'kubernetes')
      const found = await discoverKubernetes({...tool, namespace: p.kubernetes.namespace, selector: selectorLabels(p), port: p.http.port, statusPort: p.failover.statusPort, adminRoot: p.nodeRed.adminRoot})
      return {source, replicas: found.replicas, close: found.close}
    }
    default:
      throw new InputError('no replicas to deploy to', 'pass --target URL (repeatable), --profile ff-ha.yaml, or --discovery local')
  }
}

function need(profile: Profile | undefined, source: string): Profile {
  if (!profile) throw new InputError(`--discovery ${source} needs a profile`, 'pass --profile ff-ha.yaml')
  return profile
}
