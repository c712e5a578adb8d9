import type {ReplicaTarget} from '../../admin/types.js'
import {RemoteError} from '../../errors.js'
import {COMPOSE_LABELS} from '../../model/replicas.js'
import {runTool, type ToolRun} from './tool.js'

export interface ComposeDiscovery extends ToolRun {
  project: string
  /** The profile name: replicas carry the label io.ff-ha.profile=<name>; unlabelled ones are services <name>-<n>. */
  name: string
  /** Node-RED's port inside the replica containers (profile http.port). */
  port: number
  /** The agent's status port inside them (profile failover.statusPort). */
  statusPort?: number
  adminRoot?: string
}

/** What `docker inspect` says about a container (the fields discovery reads). */
export interface InspectedContainer {
  Id?: string
  Name?: string
  State?: {Status?: string; Running?: boolean; Paused?: boolean}
  Config?: {Labels?: Record<string, string> | null}
  NetworkSettings?: {
    Ports?: Record<string, Array<{HostIp?: string; HostPort?: string}> | null> | null
    Networks?: Record<string, {IPAddress?: string}> | null
  }
}

/** The label `ff-ha render` puts on every replica service (its value is the replica's name). */
export const REPLICA_LABEL = COMPOSE_LABELS.replica
const PROJECT_LABEL = 'com.docker.compose.project'
const SERVICE_LABEL = 'com.docker.compose.service'

/**
 * The replica containers, read from the Docker engine on every call (`docker ps` by label, then `docker
 * inspect`), not from a Compose CLI: the same answer whether the project was started with Compose v2 or
 * docker-compose 1.29, and whatever the directory or -p it was started with. A replica is reached on the
 * host port it publishes for the target port (the rendered project publishes fixed ports on 127.0.0.1),
 * else on its container address (reachable from a Linux host, not from Docker Desktop's VM).
 */
export async function discoverCompose(options: ComposeDiscovery): Promise<ReplicaTarget[]> {
  const containers = await composeContainers(options)
  const replicas = selectReplicas(containers, options.name)
  const running = replicas.filter(c => c.State?.Running !== false && (c.State?.Status ?? 'running') === 'running')
  if (running.length === 0) {
    throw new RemoteError(`docker compose project "${options.project}": no running replica containers (${replicas.length} replica container${replicas.length === 1 ? '' : 's'} in all)`, {
      hint: 'start it with `docker compose -p <project> up -d` (or docker-compose) in the rendered directory, or pass --target URL',
    })
  }
  const root = (options.adminRoot ?? '/').replace(/^\/?/, '/').replace(/\/?$/, '/')
  return running.map(c => {
    const name = replicaName(c)
    const admin = address(c, options.port)
    if (!admin) {
      throw new RemoteError(`docker compose service "${name}": no published port for Node-RED's port ${options.port} and no container address`, {hint: 'publish the replica ports, or pass --target URL for each replica'})
    }
    const status = options.statusPort ? address(c, options.statusPort) : undefined
    return {name, url: `http://${admin}${root}`, ...(status ? {agentUrl: `http://${status}/`} : {})}
  })
}

/** The containers labelled with the profile's name, else those of the Compose project; inspected. */
export async function composeContainers(options: ComposeDiscovery): Promise<InspectedContainer[]> {
  const ps = (label: string) => runTool('docker', ['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=${label}`], options).then(out => out.split('\n').map(s => s.trim()).filter(Boolean))
  let ids = await ps(`${COMPOSE_LABELS.profile}=${options.name}`)
  if (ids.length === 0) ids = await ps(`${PROJECT_LABEL}=${options.project}`)
  if (ids.length === 0) return []
  const containers = parseInspect(await runTool('docker', ['inspect', ...ids], options))
  // Two projects from one profile on one host (started with different -p): the profile's project wins.
  const projects = [...new Set(containers.map(c => labels(c)[PROJECT_LABEL]).filter(Boolean))]
  if (projects.length > 1) {
    const own = containers.filter(c => labels(c)[PROJECT_LABEL] === options.project)
    if (own.length === 0) {
      throw new RemoteError(`replicas of profile "${options.name}" run in ${projects.length} Compose projects (${projects.join(', ')}), none of them "${options.project}"`, {
        hint: 'set compose.project in the profile to the one to use, or pass --target URL',
      })
    }
    return own
  }
  return containers
}

export function parseInspect(out: string): InspectedContainer[] {
  let list: unknown
  try {
    list = JSON.parse(out)
  } catch {
    list = undefined
  }
  if (!Array.isArray(list)) throw new RemoteError('`docker inspect` printed something that is not a JSON list')
  return list as InspectedContainer[]
}

/** Replica containers: labelled io.ff-ha.replica by `ff-ha render`; else services named <name>-<n>. Sorted by name. */
export function selectReplicas(containers: InspectedContainer[], name: string): InspectedContainer[] {
  const labelled = containers.filter(c => labels(c)[REPLICA_LABEL])
  // The profile name is a DNS-1123 label: nothing in it needs escaping.
  const pattern = new RegExp(`^${name}-\\d+$`)
  const chosen = labelled.length > 0 ? labelled : containers.filter(c => pattern.test(labels(c)[SERVICE_LABEL] ?? ''))
  return chosen.sort((a, b) => replicaName(a).localeCompare(replicaName(b), 'en', {numeric: true}))
}

export function replicaName(c: InspectedContainer): string {
  const l = labels(c)
  return l[REPLICA_LABEL] || l[SERVICE_LABEL] || (c.Name ?? '').replace(/^\//, '') || 'replica'
}

/** The container's id (what docker kill / pause / start take). */
export function containerId(c: InspectedContainer): string {
  return c.Id ?? (c.Name ?? '').replace(/^\//, '')
}

function labels(c: InspectedContainer): Record<string, string> {
  return c.Config?.Labels ?? {}
}

/** host:port for a container port: the host port it publishes (0.0.0.0 / :: mean the loopback), else its address. */
function address(c: InspectedContainer, port: number): string | undefined {
  const bindings = c.NetworkSettings?.Ports?.[`${port}/tcp`] ?? []
  const b = bindings.find(x => Number(x.HostPort) > 0)
  if (b) {
    const ip = b.HostIp ?? ''
    const host = ip === '' || ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip.includes(':') ? `[${ip}]` : ip
    return `${host}:${b.HostPort}`
  }
  const ip = Object.values(c.NetworkSettings?.Networks ?? {}).map(n => n.IPAddress).find(Boolean)
  return ip ? `${ip}:${port}` : undefined
}
