import type {ReplicaTarget} from '../../admin/types.js'
import {RemoteError} from '../../errors.js'
import {COMPOSE_LABELS} from '../../render/names.js'
import {runTool, type ToolRun} from './tool.js'

export interface ComposeDiscovery extends ToolRun {
  project: string
  /** The profile name: unlabelled replica services are <name>-<n>. */
  name: string
  /** Node-RED's port inside the replica containers (profile http.port). */
  port: number
  /** The agent's status port inside them (profile failover.statusPort). */
  statusPort?: number
  adminRoot?: string
}

interface Publisher {
  URL?: string
  TargetPort?: number
  PublishedPort?: number
  Protocol?: string
}

interface ComposeContainer {
  Name?: string
  Service?: string
  State?: string
  Labels?: string
  Publishers?: Publisher[] | null
}

/**
 * The project's replica containers through `docker compose -p <project> ps --format json`. A replica's
 * admin port is reached on the host port it publishes, if any; the rendered project only `expose`s it, so
 * then on the container's address on the project network (`docker inspect`: reachable from a Linux host,
 * not from Docker Desktop's VM, where --target with published ports is the way).
 */
export async function discoverCompose(options: ComposeDiscovery): Promise<ReplicaTarget[]> {
  const out = await runTool('docker', ['compose', '-p', options.project, 'ps', '--format', 'json'], options)
  const containers = parseComposePs(out)
  const replicas = selectReplicas(containers, options.name).filter(c => (c.State ?? 'running') === 'running')
  if (replicas.length === 0) {
    throw new RemoteError(`docker compose project "${options.project}": no running replica containers (${containers.length} container${containers.length === 1 ? '' : 's'} in all)`, {
      hint: 'start it with `docker compose up -d` in the rendered directory, or pass --target URL',
    })
  }
  const unpublished = replicas.filter(c => !published(c, options.port)).map(c => c.Name ?? '')
  const addresses = unpublished.length > 0 ? await containerAddresses(unpublished, options) : new Map<string, string>()
  const root = (options.adminRoot ?? '/').replace(/^\/?/, '/').replace(/\/?$/, '/')
  return replicas.map(c => {
    const name = labels(c)[REPLICA_LABEL] || c.Service || c.Name || 'replica'
    const ip = addresses.get(c.Name ?? '')
    const admin = published(c, options.port) ?? (ip ? `${ip}:${options.port}` : undefined)
    if (!admin) {
      throw new RemoteError(`docker compose service "${name}": no published port for Node-RED's port ${options.port} and no container address`, {hint: 'publish the replica ports, or pass --target URL for each replica'})
    }
    const status = options.statusPort ? (published(c, options.statusPort) ?? (ip ? `${ip}:${options.statusPort}` : undefined)) : undefined
    return {name, url: `http://${admin}${root}`, ...(status ? {agentUrl: `http://${status}/`} : {})}
  })
}

/** The label `ff-ha render` puts on every replica service (its value is the replica's name). */
export const REPLICA_LABEL = COMPOSE_LABELS.replica

interface Inspected {
  Name?: string
  NetworkSettings?: {Networks?: Record<string, {IPAddress?: string}>}
}

async function containerAddresses(names: string[], options: ToolRun): Promise<Map<string, string>> {
  const out = await runTool('docker', ['inspect', ...names], options)
  let list: Inspected[]
  try {
    list = JSON.parse(out) as Inspected[]
  } catch {
    throw new RemoteError('`docker inspect` printed something that is not JSON')
  }
  const map = new Map<string, string>()
  for (const c of list) {
    const ip = Object.values(c.NetworkSettings?.Networks ?? {}).map(n => n.IPAddress).find(Boolean)
    if (c.Name && ip) map.set(c.Name.replace(/^\//, ''), ip)
  }
  return map
}

/** Compose v2 prints one JSON object per line; early 2.x releases printed one JSON array. Accept both. */
export function parseComposePs(out: string): ComposeContainer[] {
  const text = out.trim()
  if (text === '') return []
  try {
    if (text.startsWith('[')) return JSON.parse(text) as ComposeContainer[]
    return text.split('\n').map(s => s.trim()).filter(Boolean).map(line => JSON.parse(line) as ComposeContainer)
  } catch {
    throw new RemoteError('`docker compose ps --format json` printed something that is not JSON', {hint: 'is `docker compose` the Compose v2 plugin? (docker compose version)'})
  }
}

/** Replica containers: labelled io.ff-ha.replica by `ff-ha render`; else services named <name>-<n>. */
export function selectReplicas(containers: ComposeContainer[], name: string): ComposeContainer[] {
  const labelled = containers.filter(c => labels(c)[REPLICA_LABEL])
  if (labelled.length > 0) return labelled
  // The profile name is a DNS-1123 label: nothing in it needs escaping.
  const pattern = new RegExp(`^${name}-\\d+$`)
  return containers.filter(c => pattern.test(c.Service ?? ''))
}

function labels(c: ComposeContainer): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (c.Labels ?? '').split(',')) {
    const eq = pair.indexOf('=')
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

function published(c: ComposeContainer, targetPort: number): string | undefined {
  const p = (c.Publishers ?? []).find(x => x.TargetPort === targetPort && (x.PublishedPort ?? 0) > 0 && (x.Protocol ?? 'tcp') === 'tcp')
  if (!p) return undefined
  const host = !p.URL || p.URL === '0.0.0.0' || p.URL === '::' ? '127.0.0.1' : p.URL.includes(':') ? `[${p.URL}]` : p.URL
  return `${host}:${p.PublishedPort}`
}
