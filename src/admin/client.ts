import {readFileSync} from 'node:fs'
import pRetry from 'p-retry'
import {Agent, errors as undiciErrors, type Dispatcher} from 'undici'
import {registerSecret} from '../output/secrets.js'
import {waitForRuntimeDeploy} from './comms.js'
import {AdminError} from './errors.js'
import type {AdminAuth, Credentials, DeploymentType, FlowNode, FlowsState, ReplicaTarget} from './types.js'

export interface AdminClientOptions {
  auth?: AdminAuth
  connectTimeoutMs?: number
  requestTimeoutMs?: number
  /** Retries for idempotent reads only (GET). Writes are never retried. */
  retries?: number
  caFile?: string
  insecure?: boolean
  /**
   * The most ff-ha reads of one answer (default DEFAULT_MAX_RESPONSE_BYTES): a replica, or whatever answers
   * at its URL, must not be able to make ff-ha hold hundreds of MB.
   */
  maxResponseBytes?: number
  /** The apiMaxLength the replicas were rendered with (the profile's), to name it when one answers 413. */
  apiMaxLength?: string
  /** Aborts the request in flight and any retry wait; the call rejects with the signal's reason. */
  signal?: AbortSignal
}

/** What a retry can mend: the network and 5xx. Never a 4xx. */
const RETRYABLE = new Set(['unreachable', 'timeout', 'server-error'])
/** The first retry waits this long, each next one twice as long (100, 200, 400 ms...), no jitter. */
const FIRST_RETRY_DELAY_MS = 100

/** 64 MiB: above the largest flows a rendered replica accepts (nodeRed.apiMaxLength, default 50mb). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

interface Reply {
  status: number
  contentType: string
  body: string
}

// The Node-RED admin API, v2 throughout, one connection pool per replica. Errors are AdminError and name
// the replica; tokens and passwords never appear in them.
export class AdminClient {
  readonly replica: ReplicaTarget
  private readonly dispatcher: Dispatcher
  private readonly options: Required<Pick<AdminClientOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'retries' | 'maxResponseBytes'>> & Pick<AdminClientOptions, 'apiMaxLength' | 'signal'>
  private readonly auth: AdminAuth
  private token?: string
  private loggingIn?: Promise<void>
  private authProbe?: Promise<boolean>

  constructor(replica: ReplicaTarget, options: AdminClientOptions = {}) {
    this.replica = {...replica, url: replica.url.endsWith('/') ? replica.url : replica.url + '/'}
    this.options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15000,
      retries: options.retries ?? 2,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      apiMaxLength: options.apiMaxLength,
      signal: options.signal,
    }
    this.auth = options.auth ?? {}
    this.token = this.auth.token
    registerSecret(this.auth.token)
    registerSecret(this.auth.password)
    const ca = options.caFile ? readFileSync(options.caFile) : undefined
    this.dispatcher = new Agent({
      connect: {timeout: this.options.connectTimeoutMs, ca, rejectUnauthorized: !options.insecure},
      connections: 4,
      // undici stops reading (and drops the connection) at the limit, so memory stays bounded by it.
      maxResponseSize: this.options.maxResponseBytes,
      // Short: a server closing an idle keep-alive socket while we send on it is a reset, and a POST
      // cannot be retried. Node's server keeps idle sockets 5 s; under load its timer fires late or early.
      keepAliveTimeout: 1000,
      keepAliveMaxTimeout: 1000,
    })
  }

  get name(): string {
    return this.replica.name
  }

  async getFlows(): Promise<{flows: FlowNode[]; rev: string}> {
    const reply = await this.request('GET', 'flows')
    const body = this.json(reply) as {flows?: unknown; rev?: unknown}
    if (!Array.isArray(body?.flows) || typeof body.rev !== 'string') this.fail('bad-response', 'GET /flows did not return {flows, rev}')
    return {flows: body.flows as FlowNode[], rev: body.rev as string}
  }

  /** POST /flows. Answers before the new flows have started: confirm with getFlowsState() and the rev. */
  async postFlows(
    flows: FlowNode[],
    options: {rev?: string; credentials?: Credentials; type?: DeploymentType; timeoutMs?: number} = {},
  ): Promise<{rev: string}> {
    const body: Record<string, unknown> = {flows}
    if (options.rev) body.rev = options.rev
    if (options.credentials) body.credentials = options.credentials
    const reply = await this.request('POST', 'flows', body, {'Node-RED-Deployment-Type': options.type ?? 'full'}, options.timeoutMs)
    const out = this.json(reply) as {rev?: unknown}
    if (typeof out?.rev !== 'string') this.fail('bad-response', 'POST /flows did not return a rev')
    return {rev: out.rev as string}
  }

  async getFlowsState(): Promise<FlowsState> {
    const reply = await this.request('GET', 'flows/state')
    return this.parseState(reply)
  }

  /** POST /flows/state; needs runtimeState.enabled in settings (else an HTML 404). */
  async setFlowsState(state: 'start' | 'stop'): Promise<FlowsState> {
    const reply = await this.request('POST', 'flows/state', {state})
    return this.parseState(reply)
  }

  /** Whether POST /flows/state exists (settings runtimeState.enabled), read without changing anything. */
  async runtimeStateEnabled(): Promise<boolean> {
    const settings = await this.getSettings()
    return (settings.runtimeState as {enabled?: unknown} | undefined)?.enabled === true
  }

  /** GET /credentials/<type>/<id>: the editor's view (secrets as has_<name>: true, never their values). */
  async getNodeCredentials(type: string, id: string): Promise<Record<string, unknown>> {
    return this.json(await this.request('GET', `credentials/${encodeURIComponent(type)}/${encodeURIComponent(id)}`)) as Record<string, unknown>
  }

  /**
   * Wait until Node-RED reports (on its comms websocket) that the flows of `rev` finished starting; false
   * when the websocket is not available (editor disabled). See comms.ts for why the state is not enough.
   */
  async waitForFlowsStarted(rev: string, timeoutMs: number): Promise<boolean> {
    // Node-RED 4.1 without adminAuth dies (an uncaught TypeError) when a comms client sends {"auth": ...}:
    // send the token only to a replica that asks for one.
    const authOn = await this.adminAuthEnabled()
    if (authOn && !this.token && this.auth.username) await this.login()
    return waitForRuntimeDeploy({replica: this.replica.name, url: this.replica.url, token: authOn ? this.token : undefined, rev, timeoutMs, dispatcher: this.dispatcher})
  }

  /**
   * Whether the replica has adminAuth: GET auth/login (no auth needed) answers {} without it, and
   * {type: "credentials" | "strategy", ...} with it. Asked once per client.
   */
  adminAuthEnabled(): Promise<boolean> {
    this.authProbe ??= (async () => {
      const body = this.json(await this.requestWithRetries('GET', 'auth/login')) as {type?: unknown}
      return typeof body?.type === 'string'
    })()
    this.authProbe.catch(() => (this.authProbe = undefined))
    return this.authProbe
  }

  async getSettings(): Promise<Record<string, unknown>> {
    return this.json(await this.request('GET', 'settings')) as Record<string, unknown>
  }

  /** Liveness of the admin HTTP server; GET auth/login needs no auth. */
  async ping(timeoutMs = this.options.requestTimeoutMs): Promise<boolean> {
    try {
      const reply = await this.raw('GET', 'auth/login', undefined, {}, timeoutMs)
      return reply.status === 200
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close()
  }

  private parseState(reply: Reply): FlowsState {
    const state = (this.json(reply) as {state?: unknown})?.state
    if (state !== 'start' && state !== 'stop' && state !== 'safe') this.fail('bad-response', `unexpected flows state ${JSON.stringify(state)}`)
    return state as FlowsState
  }

  private json(reply: Reply): unknown {
    try {
      return JSON.parse(reply.body)
    } catch {
      return this.fail('bad-response', `expected JSON, got ${reply.contentType || 'no content type'}`)
    }
  }

  private fail(kind: ConstructorParameters<typeof AdminError>[1], message: string, status?: number): never {
    throw new AdminError(this.replica.name, kind, message, status)
  }

  private login(): Promise<void> {
    // One login at a time per replica: parallel reads must not each log in (5 logins in 10 min is the limit).
    this.loggingIn ??= this.loginOnce().finally(() => {
      this.loggingIn = undefined
    })
    return this.loggingIn
  }

  private async loginOnce(): Promise<void> {
    const {username, password} = this.auth
    if (!username || !password) return
    const reply = await this.raw('POST', 'auth/token', {client_id: 'node-red-admin', grant_type: 'password', scope: '*', username, password})
    if (reply.status === 403 || reply.status === 401) this.fail('unauthorized', `login refused for user "${username}" (HTTP ${reply.status})`, reply.status)
    if (reply.status >= 500 && /too many/i.test(reply.body)) this.fail('too-many-logins', 'too many login attempts', reply.status)
    if (reply.status !== 200) this.fail('server-error', `login failed with HTTP ${reply.status}`, reply.status)
    const token = (this.json(reply) as {access_token?: unknown}).access_token
    if (typeof token !== 'string') this.fail('bad-response', 'login returned no access_token')
    registerSecret(token as string)
    this.token = token as string
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs?: number): Promise<Reply> {
    if (!this.token && this.auth.username) await this.login()
    try {
      return await this.requestWithRetries(method, path, body, headers, timeoutMs)
    } catch (err) {
      // A login token expires (Node-RED's sessionExpiryTime): log in again once. A 401 cannot have
      // changed anything, so even a POST may be sent again.
      if (err instanceof AdminError && err.status === 401 && this.auth.username && this.auth.password) {
        this.token = undefined
        await this.login()
        return this.requestWithRetries(method, path, body, headers, timeoutMs)
      }
      throw err
    }
  }

  private async requestWithRetries(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs?: number): Promise<Reply> {
    return pRetry(async () => this.check(method, path, await this.raw(method, path, body, headers, timeoutMs), body), {
      retries: method === 'GET' ? this.options.retries : 0,
      minTimeout: FIRST_RETRY_DELAY_MS,
      factor: 2,
      randomize: false,
      signal: this.options.signal,
      shouldRetry: ({error}) => !(error instanceof AdminError) || RETRYABLE.has(error.kind),
    })
  }

  private check(method: string, path: string, reply: Reply, body?: unknown): Reply {
    const what = `${method} /${path}`
    if (reply.status >= 200 && reply.status < 300) return reply
    if (reply.status === 413) {
      const sent = body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body))
      const rendered = this.options.apiMaxLength ? `; the profile renders apiMaxLength ${this.options.apiMaxLength}` : ''
      this.fail('too-large', `${what}: HTTP 413, the replica refused a ${formatBytes(sent)} request: larger than its apiMaxLength (Node-RED's default is 5mb${rendered})`, 413)
    }
    if (reply.status === 401 || reply.status === 403) this.fail('unauthorized', `${what}: not authorized (HTTP ${reply.status})`, reply.status)
    if (reply.status === 409) this.fail('conflict', `${what}: version_mismatch, the replica's flows changed since they were read`, 409)
    if (reply.status === 404 && path === 'flows/state' && method === 'POST') {
      this.fail('state-api-disabled', 'the runtime state API is disabled (POST /flows/state is 404)', 404)
    }
    if (reply.status >= 500) this.fail('server-error', `${what}: HTTP ${reply.status}${briefBody(reply)}`, reply.status)
    return this.fail('bad-response', `${what}: HTTP ${reply.status}${briefBody(reply)}`, reply.status)
  }

  private async raw(method: 'GET' | 'POST', path: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = this.options.requestTimeoutMs): Promise<Reply> {
    const url = new URL(path, this.replica.url)
    const allHeaders: Record<string, string> = {'Node-RED-API-Version': 'v2', accept: 'application/json', ...headers}
    if (this.token && path !== 'auth/token') allHeaders.authorization = `Bearer ${this.token}`
    if (body !== undefined) allHeaders['content-type'] = 'application/json'
    try {
      const res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers: allHeaders,
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: this.options.signal,
      })
      const text = await res.body.text()
      return {status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: text}
    } catch (err) {
      if (this.options.signal?.aborted) throw this.options.signal.reason
      if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
        this.fail('timeout', `${method} /${path}: no answer within ${timeoutMs} ms`)
      }
      if (err instanceof AdminError) throw err
      const code = (err as {code?: string}).code ?? (err as {cause?: {code?: string}}).cause?.code
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        this.fail('too-large', `${method} /${path}: the answer is larger than ${formatBytes(this.options.maxResponseBytes)}, the most ff-ha reads from a replica`)
      }
      this.fail('unreachable', `${method} /${path}: ${describeNetworkError(url.origin, code, err as Error)}`)
    }
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`
  return `${n} bytes`
}

function briefBody(reply: Reply): string {
  if (!reply.contentType.includes('json')) return ''
  try {
    const parsed = JSON.parse(reply.body) as {code?: string; message?: string}
    return parsed.message ? `: ${parsed.code ? parsed.code + ' ' : ''}${parsed.message}`.slice(0, 200) : ''
  } catch {
    return ''
  }
}

// What a network failure means, in words (the error code alone tells a user little).
export function describeNetworkError(origin: string, code: string | undefined, err: Error): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${origin} (nothing listens there: is the replica running?)`
    case 'ECONNRESET':
      return `connection to ${origin} reset (the replica closed it: did it crash or restart?)`
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return `connection to ${origin} closed before an answer (the replica may have died mid-request)`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host of ${origin} not found (DNS)`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${origin}`
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate of ${origin} not trusted (${code}): pass --ca-file, or --insecure to skip the check`
    default:
      return `cannot reach ${origin} (${code ?? err.message})`
  }
}
