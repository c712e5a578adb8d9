// A small client for etcd's v3 JSON gateway (POST /v3/..., keys and values base64, 64-bit integers as decimal
// strings), through undici. Why not the etcd3 package: it pulls a gRPC stack (@grpc/grpc-js, protobufjs) for
// the five calls the lease needs, and a gRPC call's deadline is one more layer to reason about. Here every
// call has an explicit deadline (an AbortSignal), so a renewal can never outlive the renew deadline that the
// lease invariants rest on (docs/design/etcd-lease.md).
//
// Endpoints are tried in turn: the client sticks to the last one that answered, and moves to the next on a
// network error, a timeout or an "unavailable" answer (a member without quorum answers 503 or hangs), until
// the operation's deadline. A definite answer (a 4xx: bad request, not found, auth) is not retried elsewhere.
import {readFileSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {Agent, request, type Dispatcher} from 'undici'
import {InputError, RemoteError, errorMessage} from '../../errors.js'

export interface EtcdTlsFiles {
  caFile?: string
  certFile?: string
  keyFile?: string
}

export interface EtcdClientOptions {
  endpoints: string[]
  tls?: EtcdTlsFiles
  /** etcd's own users (auth enabled): the name and password, read from the environment by the caller. */
  auth?: {username: string; password: string}
  /** The longest one endpoint gets for one call before the next endpoint is tried. */
  attemptTimeoutMs: number
}

/** An answer from etcd that another endpoint would give the same way (HTTP 4xx with a gRPC error). */
export class EtcdAnswerError extends RemoteError {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly etcdMessage: string,
  ) {
    super(`etcd ${endpoint}: ${etcdMessage} (HTTP ${status})`)
  }
}

/** Read the TLS files once, at open: a missing file is the operator's input, not a store failure. */
function readTls(tls: EtcdTlsFiles | undefined): {ca?: Buffer; cert?: Buffer; key?: Buffer} {
  const out: {ca?: Buffer; cert?: Buffer; key?: Buffer} = {}
  for (const [field, key] of [['caFile', 'ca'], ['certFile', 'cert'], ['keyFile', 'key']] as const) {
    const file = tls?.[field]
    if (!file) continue
    try {
      out[key] = readFileSync(file)
    } catch (err) {
      throw new InputError(`failover.etcd.tls.${field} ${file}: cannot read it (${(err as {code?: string}).code ?? errorMessage(err)})`, 'mount the file into the replica at that path, or correct the path')
    }
  }
  return out
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')
export const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8')

export class EtcdClient {
  private current = 0
  private readonly dispatcher: Dispatcher
  private token: string | null = null
  private closed = false

  constructor(private readonly options: EtcdClientOptions) {
    const tls = readTls(options.tls)
    // Connect timeout within the attempt's: an unreachable host drops SYNs, and we must move on in time.
    this.dispatcher = new Agent({connect: {timeout: options.attemptTimeoutMs, ...tls}, keepAliveTimeout: 30_000, pipelining: 0})
  }

  get endpoints(): string[] {
    return this.options.endpoints
  }

  /**
   * POST `path` with `body`, trying the endpoints in turn until one answers or `deadline` (performance.now()
   * ms) passes. Throws RemoteError naming every endpoint tried and why, or EtcdAnswerError for a definite
   * answer.
   */
  async call<T>(path: string, body: unknown, deadline: number): Promise<T> {
    const failures = new Map<string, string>()
    const n = this.options.endpoints.length
    let authRetried = false
    for (let tried = 0; ; ) {
      const left = deadline - performance.now()
      if (left <= 0 || tried >= n * 2) break
      const endpoint = this.options.endpoints[this.current]
      // Whole ms: AbortSignal.timeout() refuses a fraction (ERR_OUT_OF_RANGE).
      const timeout = Math.max(1, Math.ceil(Math.min(left, this.options.attemptTimeoutMs)))
      try {
        if (this.options.auth && this.token === null) await this.authenticate(endpoint, timeout)
        return await this.post<T>(endpoint, path, body, timeout)
      } catch (err) {
        if (err instanceof EtcdAnswerError) {
          // A simple-token expired (etcd drops them after --auth-token-ttl idle): log in again, once.
          if (this.options.auth && !authRetried && /auth token|token is invalid|invalid auth/i.test(err.etcdMessage)) {
            this.token = null
            authRetried = true
            continue
          }
          throw err
        }
        failures.set(endpoint, describeFailure(err, timeout))
        this.current = (this.current + 1) % n
        tried++
      }
    }
    const what = [...failures].map(([e, why]) => `${e} (${why})`).join(', ')
    throw new RemoteError(`etcd unreachable: ${what || `no time left for ${path}`}`, {
      hint: 'check that the etcd members run and have quorum, and that this host reaches them (failover.etcd.endpoints)',
    })
  }

  private async authenticate(endpoint: string, timeoutMs: number): Promise<void> {
    const {username, password} = this.options.auth!
    const res = await this.post<{token?: string}>(endpoint, '/v3/auth/authenticate', {name: username, password}, timeoutMs, false)
    if (!res.token) throw new EtcdAnswerError(endpoint, 200, 'authenticate answered no token')
    this.token = res.token
  }

  private async post<T>(endpoint: string, path: string, body: unknown, timeoutMs: number, withToken = true): Promise<T> {
    if (this.closed) throw new RemoteError('etcd client closed')
    const headers: Record<string, string> = {'content-type': 'application/json'}
    if (withToken && this.token) headers.authorization = this.token
    const res = await request(`${endpoint}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers,
      dispatcher: this.dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await res.body.text()
    if (res.statusCode === 200) return JSON.parse(text) as T
    let message = text.slice(0, 200)
    try {
      const parsed = JSON.parse(text) as {message?: string; error?: string}
      message = parsed.message ?? parsed.error ?? message
    } catch {
      // not JSON: keep the text
    }
    // 5xx: this member cannot serve now (no leader, no quorum, timed out): another member may.
    if (res.statusCode >= 500) throw new RemoteError(`HTTP ${res.statusCode} ${message}`)
    throw new EtcdAnswerError(endpoint, res.statusCode, message)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.dispatcher.close().catch(() => undefined)
  }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as {name?: string; code?: string; cause?: {code?: string}}
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer in ${Math.round(timeoutMs)} ms`
  const code = e?.code ?? e?.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection in ${Math.round(timeoutMs)} ms`
  if (code) return code
  return errorMessage(err)
}
