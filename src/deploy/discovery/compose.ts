import type {ReplicaTarget} from '../../admin/types.js'
import {RemoteError} from '../../errors.js'
import {runTool, type ToolRun} from './tool.js'

export interface ComposeDiscovery extends ToolRun {
  project: string
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

/** The project's replica containers through `docker compose -p <project> ps --format json`. */
export async function discoverCompose(options: ComposeDiscovery): Promise<ReplicaTarget[]> {
  const args = ['compose', '-p', options.project, 'ps', '--format', 'json']
  const out = await runTool('docker', args, options)
  const containers = parseComposePs(out)
  const replicas = selectReplicas(containers).filter(c => (c.State ?? 'running') === 'running')
  if (replicas.length === 0) {
    throw new RemoteError(`docker compose project "${options.project}": no running replica containers (${containers.length} container${containers.length === 1 ? '' : 's'} in all)`, {
      hint: 'start it with `docker compose up -d` in the rendered directory, or pass --target URL',
    })
  }
  return replicas.map(c => {
    const name = c.Service ?? c.Name ?? 'replica'
    const admin = published(c, options.port)
    if (!admin) {
      throw new RemoteError(`docker compose service "${name}" publishes no host port for Node-RED's port ${options.port}`, {hint: 'publish the replica ports, or pass --target URL for each replica'})
    }
    const status = options.statusPort ? published(c, options.statusPort) : undefined
    const root = (options.adminRoot ?? '/').replace(/^\/?/, '/')
    return {name, url: `http://${admin}${root.endsWith('/') ? root : root + '/'}`, ...(status ? {agentUrl: `http://${status}/`} : {})}
  })
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

/** Replica containers: labelled ff-ha.role=replica by `ff-ha render`; else services named like replicas. */
export function selectReplicas(containers: ComposeContainer[]): ComposeContainer[] {
  const labelled = containers.filter(c => labels(c)['ff-ha.role'] === 'replica')
  if (labelled.length > 0) return labelled
  return containers.filter(c => /(^|-)(replica|node-red|nodered)(-?\d+)?$/.test(c.Service ?? ''))
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
