import {createServer, type Server} from 'node:http'
import type {AgentStatus, Health} from './status.js'

export interface StatusSource {
  status(): AgentStatus
  health(): Health
  active(): boolean
  metrics(): string
}

// The agent's own HTTP surface, and nothing more: the admin API stays Node-RED's.
//   GET /healthz  200 while the agent and Node-RED are alive and answering, else 503
//   GET /active   200 only while this replica holds the lease AND its flows are started (proxies, readiness)
//   GET /status   the AgentStatus JSON
//   GET /metrics  Prometheus text
export function startStatusServer(source: StatusSource, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (code: number, body: unknown, type = 'application/json') => {
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      res.writeHead(code, {'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text)})
      res.end(req.method === 'HEAD' ? undefined : text)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, {error: 'only GET'})
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
      if (path === '/metrics') return send(200, source.metrics(), 'text/plain; version=0.0.4')
      return send(404, {error: 'not found', paths: ['/healthz', '/active', '/status', '/metrics']})
    } catch (err) {
      return send(500, {error: (err as Error).message})
    }
  })
  server.keepAliveTimeout = 5000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
