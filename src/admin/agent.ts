import {request} from 'undici'
import {describeNetworkError} from './client.js'
import {AdminError} from './errors.js'

export const AGENT_ROLES = ['starting', 'spare', 'active', 'fenced', 'stopping'] as const
export type AgentRole = (typeof AGENT_ROLES)[number]

export interface AgentStatus {
  role: AgentRole
  [key: string]: unknown
}

/** GET <agentUrl>/status from an ff-ha agent: which role it holds (what decides active vs. spare). */
export async function getAgentStatus(replica: string, agentUrl: string, timeoutMs = 3000): Promise<AgentStatus> {
  const url = new URL('status', agentUrl.endsWith('/') ? agentUrl : agentUrl + '/')
  let status: number
  let text: string
  try {
    const res = await request(url, {method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: {accept: 'application/json'}})
    status = res.statusCode
    text = await res.body.text()
  } catch (err) {
    const code = (err as {code?: string}).code
    if (code?.includes('TIMEOUT')) throw new AdminError(replica, 'timeout', `agent ${url.origin}: no answer within ${timeoutMs} ms`)
    throw new AdminError(replica, 'unreachable', `agent: ${describeNetworkError(url.origin, code, err as Error)}`)
  }
  if (status !== 200) throw new AdminError(replica, status >= 500 ? 'server-error' : 'bad-response', `agent GET /status: HTTP ${status}`, status)
  let body: {role?: unknown}
  try {
    body = JSON.parse(text)
  } catch {
    throw new AdminError(replica, 'bad-response', 'agent GET /status did not return JSON')
  }
  if (!AGENT_ROLES.includes(body?.role as AgentRole)) {
    throw new AdminError(replica, 'bad-response', `agent GET /status: unknown role ${JSON.stringify(body?.role)}`)
  }
  return body as AgentStatus
}

/** GET <agentUrl>/healthz: 200 when the agent and its Node-RED are alive. */
export async function agentHealthy(agentUrl: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await request(new URL('healthz', agentUrl.endsWith('/') ? agentUrl : agentUrl + '/'), {headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}
