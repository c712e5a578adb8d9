import {Agent, request} from 'undici'
import {AgentStatusClient} from '../admin/agent.js'
import {isAgentRole} from '../model/roles.js'
import {now, sleep} from './clock.js'
import type {Sample} from './types.js'

// Samples every replica's Node-RED /flows/state and agent /status every 20 ms: the timeline of roles and
// of who runs flows. One loop per replica, so that a hung replica does not slow the sampling of others.

export interface ObservedReplica {
  name: string
  /** Node-RED admin URL (with trailing slash); undefined when it cannot be reached from here. */
  url?: string
  /** The agent's status server. */
  agentUrl?: string
}

export interface Observer {
  samples: Sample[]
  stop(): Promise<Sample[]>
}

export function startObserver(replicas: ObservedReplica[], options: {token?: string; statusToken?: string; intervalMs?: number; timeoutMs?: number} = {}): Observer {
  const samples: Sample[] = []
  const intervalMs = options.intervalMs ?? 20
  const timeoutMs = options.timeoutMs ?? 150
  const dispatcher = new Agent({connections: 2 * replicas.length, keepAliveTimeout: 1000, connect: {timeout: timeoutMs}})
  const agents = new AgentStatusClient({timeoutMs, token: options.statusToken})
  let running = true
  const get = async (url: string, headers: Record<string, string> = {}): Promise<unknown> => {
    const res = await request(url, {dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers})
    const text = await res.body.text()
    if (res.statusCode !== 200) return undefined
    return JSON.parse(text)
  }
  const loop = async (replica: ObservedReplica) => {
    const auth: Record<string, string> = options.token ? {authorization: `Bearer ${options.token}`, 'Node-RED-API-Version': 'v2'} : {'Node-RED-API-Version': 'v2'}
    while (running) {
      const t = now()
      const [status, flows] = await Promise.all([
        replica.agentUrl ? agents.status(replica.name, replica.agentUrl) : undefined,
        replica.url ? get(new URL('flows/state', slash(replica.url)).href, auth).catch(() => undefined) : undefined,
      ])
      // without Node-RED's own URL (attached targets), the agent's view of its flows state stands in
      const state = replica.url ? flows : status ? {state: (status as {flowsState?: unknown}).flowsState} : undefined
      // An answer tells the state when it was given: a request that waited for a frozen process to wake
      // describes the moment it woke, not the moment it was sent. No answer: stamp the send time.
      samples.push(toSample(status !== undefined || flows !== undefined ? now() : t, replica.name, status, state))
      const wait = intervalMs - (now() - t)
      if (wait > 0) await sleep(wait)
    }
  }
  const loops = replicas.map(loop)
  return {
    samples,
    async stop() {
      running = false
      await Promise.allSettled(loops)
      await dispatcher.close().catch(() => {})
      await agents.close().catch(() => {})
      return samples
    },
  }
}

/** A sample from the raw answers (undefined: no answer). Pure. */
export function toSample(t: number, replica: string, status: unknown, flows: unknown): Sample {
  const sample: Sample = {t, replica}
  const s = status as {role?: unknown; leaseHolder?: unknown; fencingToken?: unknown} | undefined
  if (s && isAgentRole(s.role)) {
    sample.role = s.role
    if (typeof s.leaseHolder === 'string' || s.leaseHolder === null) sample.leaseHolder = s.leaseHolder as string | null
    if (typeof s.fencingToken === 'number') sample.fencingToken = s.fencingToken
    const pid = (s as {nodeRedPid?: unknown}).nodeRedPid
    if (typeof pid === 'number') sample.nodeRedPid = pid
  }
  const state = (flows as {state?: unknown} | undefined)?.state
  if (state === 'start' || state === 'stop' || state === 'safe') sample.flowsState = state
  return sample
}

function slash(url: string): string {
  return url.endsWith('/') ? url : url + '/'
}
