import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {TimeoutError} from '../../errors.js'
import {modeOf, type ModeId} from '../../modes/index.js'

// A small reverse proxy with HAProxy's check semantics as ff-ha renders them, for machines without
// haproxy on PATH: poll each server's agent (/active in hot-spare, /healthz in load-balanced) every
// intervalMs (a check may take up to timeoutMs), mark it down after `fall` failed checks and up after `rise` good ones,
// cut the pooled connections of a server marked down, send hot-spare traffic to the server that is up
// and spread load-balanced traffic round-robin, and retry a request whose connection failed on another
// server that is up (option redispatch, retries 3); load-balanced, also one answered 404 (retry-on 404).
// The body is read whole before forwarding (option http-buffer-request). No server up: 503, as HAProxy answers.

export interface ProxyServer {
  name: string
  address: string
  port: number
  checkPort: number
}

export interface BuiltinProxyOptions {
  mode: ModeId
  servers: ProxyServer[]
  bindPort: number
  bindAddress?: string
  intervalMs?: number
  /** How long a check may take (HAProxy's `timeout check`, as rendered): default max(500, intervalMs). */
  timeoutMs?: number
  fall?: number
  rise?: number
  retries?: number
}

export interface RunningProxy {
  url: string
  /** Which servers are up now (for tests). */
  up(): string[]
  stop(): Promise<void>
}

interface ServerState extends ProxyServer {
  isUp: boolean
  fails: number
  goods: number
  agent: http.Agent
}

export async function startBuiltinProxy(options: BuiltinProxyOptions): Promise<RunningProxy> {
  const intervalMs = options.intervalMs ?? 100
  const timeoutMs = options.timeoutMs ?? Math.max(500, intervalMs)
  const traffic = modeOf(options.mode).traffic
  const fall = options.fall ?? traffic.fall
  const rise = options.rise ?? 1
  const retries = options.retries ?? 3
  const checkPath = traffic.checkPath
  const servers: ServerState[] = options.servers.map(s => ({...s, isUp: false, fails: 0, goods: 0, agent: new http.Agent({keepAlive: true})}))
  let next = 0
  let stopped = false

  const check = (s: ServerState) =>
    new Promise<boolean>(resolve => {
      const req = http.get({host: s.address, port: s.checkPort, path: checkPath, timeout: timeoutMs, agent: false}, res => {
        res.resume()
        resolve(res.statusCode === 200)
      })
      req.on('timeout', () => req.destroy(new TimeoutError(`${s.address}:${s.checkPort}${checkPath}: no answer within ${timeoutMs} ms`, timeoutMs)))
      req.on('error', () => resolve(false))
    })

  const checkLoop = async (s: ServerState) => {
    while (!stopped) {
      const started = Date.now()
      const ok = await check(s)
      if (ok) {
        s.fails = 0
        if (!s.isUp && ++s.goods >= rise) s.isUp = true
      } else {
        s.goods = 0
        if (s.isUp && ++s.fails >= fall) {
          s.isUp = false
          // on-marked-down shutdown-sessions
          s.agent.destroy()
          s.agent = new http.Agent({keepAlive: true})
        }
      }
      await new Promise(r => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))))
    }
  }

  const pick = (exclude: Set<string>): ServerState | undefined => {
    const up = servers.filter(s => s.isUp && !exclude.has(s.name))
    if (up.length === 0) return undefined
    if (traffic.to === 'the-active') return up[0]
    return up[next++ % up.length]
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => forward(req, res, Buffer.concat(chunks), new Set(), 0))
  })

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, tried: Set<string>, attempt: number) => {
    const target = pick(tried) ?? (attempt > 0 ? pick(new Set()) : undefined)
    if (!target) {
      res.writeHead(503, {'content-type': 'text/plain'}).end('503 Service Unavailable: no server is available to handle this request.\n')
      return
    }
    const upstream = http.request(
      {host: target.address, port: target.port, method: req.method, path: req.url, headers: {...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? ''}, agent: target.agent},
      up => {
        // retry-on 404 (load-balanced, as rendered): a replica whose flows a full deploy is restarting has
        // no http-in routes for a moment; another replica serves the same route.
        if (traffic.to === 'every-healthy' && up.statusCode === 404 && attempt < retries) {
          up.resume()
          tried.add(target.name)
          forward(req, res, body, tried, attempt + 1)
          return
        }
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('error', err => {
      const code = (err as {code?: string}).code
      const connectFailure = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
      if (connectFailure && !res.headersSent && attempt < retries) {
        tried.add(target.name)
        forward(req, res, body, tried, attempt + 1)
      } else if (!res.headersSent) {
        res.writeHead(502, {'content-type': 'text/plain'}).end('502 Bad Gateway\n')
      } else res.destroy()
    })
    upstream.end(body)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.bindPort, options.bindAddress ?? '127.0.0.1', () => resolve())
  })
  const loops = servers.map(checkLoop)
  const address = server.address() as AddressInfo
  return {
    url: `http://${options.bindAddress && options.bindAddress !== '0.0.0.0' ? options.bindAddress : '127.0.0.1'}:${address.port}/`,
    up: () => servers.filter(s => s.isUp).map(s => s.name),
    async stop() {
      stopped = true
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      await Promise.allSettled(loops)
      for (const s of servers) s.agent.destroy()
    },
  }
}
