import {randomBytes, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {isIPv6} from 'node:net'
import {ENV} from '../model/env.js'
import {registerSecret} from '../output/secrets.js'
import type {SingletonSource} from './singletons.js'

/** A route on the agent's status server: true when it answered the request. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>

const PATH = /^\/singleton\/([^/]+)$/

/**
 * The node's side door into its agent:
 *   POST   /singleton/<name>   claim or keep the singleton; answers a SingletonAnswer (200)
 *   DELETE /singleton/<name>   the node was removed from the flows: give it up (204)
 * Both need `Authorization: Bearer <token>`, a random token made per agent process and handed only to its
 * Node-RED: the status server may listen on every interface (HAProxy checks /active there).
 */
export function singletonRoute(source: SingletonSource, token: string): ExtraRoute {
  const expected = Buffer.from(`Bearer ${token}`)
  return async (req, res, path) => {
    const m = PATH.exec(path)
    if (!m) return false
    const send = (code: number, body?: unknown) => {
      const text = body === undefined ? '' : JSON.stringify(body)
      res.writeHead(code, {'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text)})
      res.end(text)
    }
    const given = Buffer.from(req.headers.authorization ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      send(401, {error: 'this path is for the ff-ha singleton node of this replica'})
      return true
    }
    let name: string
    try {
      name = decodeURIComponent(m[1])
    } catch {
      send(400, {error: 'bad singleton name'})
      return true
    }
    req.resume()
    if (req.method === 'POST') send(200, await source.claim(name))
    else if (req.method === 'DELETE') {
      await source.drop(name)
      send(204)
    } else send(405, {error: 'POST or DELETE'})
    return true
  }
}

/** A new token for the singleton route, registered as a secret so that no log shows it. */
export function newSingletonToken(): string {
  const token = randomBytes(24).toString('hex')
  registerSecret(token)
  return token
}

/** What Node-RED gets so that the node finds its agent (the node reads and removes them at load). */
export function singletonNodeEnv(statusHost: string, statusPort: number, token: string): Record<string, string> {
  const host = statusHost === '0.0.0.0' ? '127.0.0.1' : statusHost === '::' ? '[::1]' : isIPv6(statusHost) ? `[${statusHost}]` : statusHost
  return {[ENV.singletonUrl]: `http://${host}:${statusPort}/singleton/`, [ENV.singletonToken]: token}
}
