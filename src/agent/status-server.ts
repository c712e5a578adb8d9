import {timingSafeEqual} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import {redact} from '../output/secrets.js'
import type {MetricsScrape} from './metrics.js'
import {handoverRoute, type HandoverSource} from './handover.js'
import type {ExtraRoute} from './singleton-route.js'
import type {AgentStatus, Health} from './status.js'

export interface StatusSource extends Partial<HandoverSource> {
  status(): AgentStatus
  health(): Health
  active(): boolean
  metrics(): Promise<MetricsScrape>
}

export interface StatusServerOptions {
  host: string
  port: number
  /** When set, /status and /metrics need `Authorization: Bearer <token>`; /healthz and /active stay open. */
  token?: string
  /** Routes with their own methods and auth (the singleton node's /singleton/<name>), asked first. */
  routes?: ExtraRoute[]
}

/** What the token guards. /healthz and /active stay open for probes and proxies: they say only up or down. */
const GUARDED_PATHS = new Set(['/status', '/metrics'])

// The agent's own HTTP surface, and nothing more: the admin API stays Node-RED's.
//   GET /healthz  200 while the agent and Node-RED are alive and answering, else 503
//   GET /active   200 only while this replica holds the lease AND its flows are started (proxies, readiness)
//   GET /status   the AgentStatus JSON                     (bearer token, when one is configured)
//   GET /metrics  Prometheus text                          (bearer token, when one is configured)
//   POST /handover  hand the lease to a spare (active only; always the bearer token: handover.ts)
// Every body goes through the same scrubbing as the agent's log: a /healthz reason quotes Node-RED's log,
// and a flow or module may have logged a secret there.
export function startStatusServer(source: StatusSource, options: StatusServerOptions): Promise<Server> {
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : null
  const authorized = (header: string | undefined) => {
    if (!expected) return true
    const given = Buffer.from(header ?? '')
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (code: number, body: unknown, type = 'application/json', headers: Record<string, string> = {}) => {
      const text = redact(typeof body === 'string' ? body : JSON.stringify(body))
      res.writeHead(code, {'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers})
      res.end(req.method === 'HEAD' ? undefined : text)
    }
    if (path === '/handover') {
      // POST, always with the status token (handover.ts says why)
      const r = await handoverRoute(req, {configured: !!expected, authorized: !!expected && authorized(req.headers.authorization)}, source).catch(err => ({code: 500, body: {error: (err as Error).message}, headers: {}}))
      return send(r.code, r.body, 'application/json', r.headers)
    }
    try {
      for (const route of options.routes ?? []) if (await route(req, res, path)) return
    } catch (err) {
      return send(500, {error: (err as Error).message})
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, {error: 'only GET'})
    if (GUARDED_PATHS.has(path) && !authorized(req.headers.authorization)) {
      return send(401, {error: 'this path needs the status token: Authorization: Bearer <token>'}, 'application/json', {'www-authenticate': 'Bearer'})
    }
    try {
      if (path === '/healthz') {
        const h = source.health()
        return send(h.ok ? 200 : 503, h)
      }
      if (path === '/active') {
        const s = source.status()
        const active = source.active()
        return send(active ? 200 : 503, {active, role: s.role, fencingToken: s.fencingToken})
      }
      if (path === '/status') return send(200, source.status())
      if (path === '/metrics') {
        const {contentType, body} = await source.metrics()
        return send(200, body, contentType)
      }
      return send(404, {error: 'not found', paths: ['/healthz', '/active', '/status', '/metrics']})
    } catch (err) {
      return send(500, {error: (err as Error).message})
    }
  })
  server.keepAliveTimeout = 5000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
