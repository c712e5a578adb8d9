import {Agent, request, type Dispatcher} from 'undici'
import {registerSecret} from '../output/secrets.js'
import {describeNetworkError} from './client.js'
import {AdminError} from './errors.js'
import {isAgentRole, type AgentRole} from '../model/roles.js'

export {AGENT_ROLES, type AgentRole} from '../model/roles.js'

/** An agent's GET /status: the fields its readers use are typed, the rest is passed along. */
export interface AgentStatus {
  role: AgentRole
  leaseHolder?: string | null
  nodeRedPid?: number | null
  flowsState?: 'start' | 'stop' | 'safe' | null
  [key: string]: unknown
}

/** An agent's /status is a few hundred bytes: anything past this is not an agent. */
const MAX_STATUS_BYTES = 64 * 1024

/**
 * GET <agentUrl>/status from an ff-ha agent: which role it holds (what decides active vs. spare). `token`:
 * the agents' status token (secrets.statusTokenEnv), when they have one.
 */
export async function getAgentStatus(replica: string, agentUrl: string, timeoutMs = 3000, token?: string): Promise<AgentStatus> {
  const dispatcher = new Agent({maxResponseSize: MAX_STATUS_BYTES})
  try {
    return await fetchStatus(replica, agentUrl, timeoutMs, token, dispatcher)
  } finally {
    void dispatcher.close()
  }
}

async function fetchStatus(replica: string, agentUrl: string, timeoutMs: number, token: string | undefined, dispatcher: Dispatcher): Promise<AgentStatus> {
  const url = new URL('status', slash(agentUrl))
  registerSecret(token)
  let status: number
  let text: string
  try {
    const headers: Record<string, string> = {accept: 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})}
    const res = await request(url, {method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers, dispatcher})
    status = res.statusCode
    text = await res.body.text()
  } catch (err) {
    const code = (err as {code?: string}).code
    if (code?.includes('TIMEOUT')) throw new AdminError(replica, 'timeout', `agent ${url.origin}: no answer within ${timeoutMs} ms`)
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') throw new AdminError(replica, 'bad-response', `agent GET /status: the answer is larger than ${MAX_STATUS_BYTES / 1024} KiB (not an ff-ha agent?)`)
    throw new AdminError(replica, 'unreachable', `agent: ${describeNetworkError(url.origin, code, err as Error)}`)
  }
  if (status === 401) {
    throw new AdminError(replica, 'unauthorized', `agent GET /status: HTTP 401, the agent has a status token (export ${token ? 'the right one in ' : ''}FF_HA_STATUS_TOKEN, or the variable named by secrets.statusTokenEnv)`, 401)
  }
  if (status !== 200) throw new AdminError(replica, status >= 500 ? 'server-error' : 'bad-response', `agent GET /status: HTTP ${status}`, status)
  let body: {role?: unknown}
  try {
    body = JSON.parse(text)
  } catch {
    throw new AdminError(replica, 'bad-response', 'agent GET /status did not return JSON')
  }
  if (!isAgentRole(body?.role)) {
    throw new AdminError(replica, 'bad-response', `agent GET /status: unknown role ${JSON.stringify(body?.role)}`)
  }
  return body as AgentStatus
}

/** GET <agentUrl>/healthz: 200 when the agent and its Node-RED are alive. */
export async function agentHealthy(agentUrl: string, timeoutMs = 2000, dispatcher?: Dispatcher): Promise<boolean> {
  try {
    const res = await request(new URL('healthz', slash(agentUrl)), {headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(dispatcher ? {dispatcher} : {})})
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}

/**
 * For code that polls many agents many times (the drill's observer, readiness waits): one connection
 * pool with a short connect timeout (a partitioned or stopped replica drops packets, and undici's default
 * of 10 s would stall every poll), and answers as values: undefined when the agent does not answer or
 * answers with something that is not a status.
 */
export class AgentStatusClient {
  private readonly dispatcher: Agent
  private readonly timeoutMs: number
  private readonly token?: string

  constructor(options: {timeoutMs?: number; token?: string} = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000
    this.token = options.token
    this.dispatcher = new Agent({connect: {timeout: this.timeoutMs}, keepAliveTimeout: 1000, maxResponseSize: MAX_STATUS_BYTES})
  }

  /** The status, or undefined when there is none to read (the reason is not needed by a poller). */
  async status(replica: string, agentUrl: string): Promise<AgentStatus | undefined> {
    return fetchStatus(replica, agentUrl, this.timeoutMs, this.token, this.dispatcher).catch(() => undefined)
  }

  healthy(agentUrl: string): Promise<boolean> {
    return agentHealthy(agentUrl, this.timeoutMs, this.dispatcher)
  }

  close(): Promise<void> {
    return this.dispatcher.close()
  }
}

function slash(url: string): string {
  return url.endsWith('/') ? url : url + '/'
}

/** What POST <agentUrl>/handover answered (src/agent/handover.ts is the server side). */
export interface HandoverReply {
  /** 200: the agent gave the lease up (or, dryRun, would); 409: it refused; 401/403: the status token. */
  status: number
  handedOver: boolean
  taken: boolean
  holder: string | null
  error?: string
}

/**
 * POST <agentUrl>/handover: ask the active's agent to stop its flows and hand the lease to `to`. Answers as
 * a value for every HTTP status; throws (AdminError) only when the agent cannot be reached or does not
 * answer within `timeoutMs`.
 */
export async function requestHandover(replica: string, agentUrl: string, body: {to?: string; dryRun?: boolean; timeoutMs?: number}, token: string | undefined, timeoutMs: number): Promise<HandoverReply> {
  const url = new URL('handover', slash(agentUrl))
  registerSecret(token)
  const dispatcher = new Agent({maxResponseSize: MAX_STATUS_BYTES})
  try {
    const res = await request(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: {'content-type': 'application/json', accept: 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      dispatcher,
    })
    const text = await res.body.text()
    let parsed: Partial<HandoverReply> = {}
    try {
      parsed = JSON.parse(text) as Partial<HandoverReply>
    } catch {
      parsed = {error: `not JSON (HTTP ${res.statusCode})`}
    }
    return {status: res.statusCode, handedOver: parsed.handedOver === true, taken: parsed.taken === true, holder: typeof parsed.holder === 'string' ? parsed.holder : null, ...(typeof parsed.error === 'string' ? {error: parsed.error} : {})}
  } catch (err) {
    const code = (err as {code?: string}).code
    if (code?.includes('TIMEOUT')) throw new AdminError(replica, 'timeout', `agent POST /handover: no answer within ${timeoutMs} ms`)
    throw new AdminError(replica, 'unreachable', `agent: ${describeNetworkError(url.origin, code, err as Error)}`)
  } finally {
    void dispatcher.close()
  }
}

/** GET <agentUrl>/active: 200 while it holds the lease with its flows started (what the proxies ask). */
export async function agentActive(agentUrl: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await request(new URL('active', slash(agentUrl)), {headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}
