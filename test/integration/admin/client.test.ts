// The admin client against small real HTTP(S) servers that answer as Node-RED does (status codes, bodies):
// what each failure becomes, what is retried, what is sent.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer as createHttp, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttps} from 'node:https'
import {readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {getAgentStatus} from '../../../src/admin/agent.js'
import {AdminClient} from '../../../src/admin/client.js'
import {AdminError} from '../../../src/admin/errors.js'
import {freePort} from '../../../src/net/free-port.js'

type Handler = (req: IncomingMessage & {body: string}, res: ServerResponse) => void
const servers: Server[] = []
const clients: AdminClient[] = []

async function serve(handler: Handler, make: () => Server = () => createHttp()): Promise<{url: string; seen: Array<{method: string; url: string; headers: IncomingMessage['headers']; body: string}>}> {
  const seen: Array<{method: string; url: string; headers: IncomingMessage['headers']; body: string}> = []
  const server = make()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', c => (body += c))
    req.on('end', () => {
      seen.push({method: req.method!, url: req.url!, headers: req.headers, body})
      handler(Object.assign(req, {body}), res)
    })
  })
  servers.push(server)
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as {port: number}).port
  return {url: `http://127.0.0.1:${port}/`, seen}
}
const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, {'content-type': 'application/json'})
  res.end(JSON.stringify(value))
}
function client(url: string, options: ConstructorParameters<typeof AdminClient>[1] = {}): AdminClient {
  const c = new AdminClient({name: 'r1', url}, {auth: {token: 'sekrit-token-123'}, retries: 2, ...options})
  clients.push(c)
  return c
}
async function failure(p: Promise<unknown>): Promise<AdminError> {
  const err = await p.then(() => undefined, e => e)
  expect(err).toBeInstanceOf(AdminError)
  return err as AdminError
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()))
  await Promise.all(servers.splice(0).map(s => new Promise(r => s.close(r))))
})

describe('AdminClient', () => {
  it('speaks API v2 with the bearer token, and sends the rev, credentials and deployment type in a POST', async () => {
    const {url, seen} = await serve((req, res) => json(res, 200, req.method === 'GET' ? {flows: [], rev: 'r0'} : {rev: 'r1'}))
    const c = client(url)
    expect(await c.getFlows()).toEqual({flows: [], rev: 'r0'})
    expect(await c.postFlows([{id: 'a', type: 'tab'}], {rev: 'r0', credentials: {a: {user: 'u'}}, type: 'nodes'})).toEqual({rev: 'r1'})
    for (const s of seen) {
      expect(s.headers['node-red-api-version']).toBe('v2')
      expect(s.headers.authorization).toBe('Bearer sekrit-token-123')
    }
    expect(seen[1].headers['node-red-deployment-type']).toBe('nodes')
    expect(JSON.parse(seen[1].body)).toEqual({flows: [{id: 'a', type: 'tab'}], rev: 'r0', credentials: {a: {user: 'u'}}})
  })

  it('retries reads with backoff on 5xx, never a write', async () => {
    const {url, seen} = await serve((_req, res) => json(res, 503, {message: 'busy'}))
    const c = client(url)
    const read = await failure(c.getFlows())
    expect(read.kind).toBe('server-error')
    expect(seen.length).toBe(3)
    const write = await failure(c.postFlows([]))
    expect(write.kind).toBe('server-error')
    expect(seen.length).toBe(4)
  })

  it('waits 100 ms before the first retry and doubles the wait each time', async () => {
    const at: number[] = []
    const {url} = await serve((_req, res) => (at.push(performance.now()), json(res, 502, {})))
    expect((await failure(client(url, {retries: 3}).getFlows())).kind).toBe('server-error')
    expect(at).toHaveLength(4)
    // Lower bounds only: a loaded machine may wait longer, never shorter.
    const gaps = at.slice(1).map((t, i) => t - at[i])
    expect(gaps[0]).toBeGreaterThanOrEqual(95)
    expect(gaps[1]).toBeGreaterThanOrEqual(195)
    expect(gaps[2]).toBeGreaterThanOrEqual(395)
  })

  it('an aborted signal stops the retries and rejects with its reason', async () => {
    const controller = new AbortController()
    const reason = new Error('deploy cancelled')
    const {url, seen} = await serve((_req, res) => {
      json(res, 503, {})
      controller.abort(reason)
    })
    const err = await client(url, {retries: 5, signal: controller.signal}).getFlows().then(() => undefined, e => e)
    expect(err).toBe(reason)
    expect(seen).toHaveLength(1)
    // Already aborted: nothing is sent.
    await expect(client(url, {signal: controller.signal}).getFlows()).rejects.toBe(reason)
    expect(seen).toHaveLength(1)
  })

  it('maps 401/403, 409 version_mismatch, the HTML 404 of a disabled state API; never a 4xx retried', async () => {
    const {url, seen} = await serve((req, res) => {
      if (req.url === '/flows' && req.method === 'GET') return json(res, 401, {message: 'Unauthorized'})
      if (req.url === '/flows') return json(res, 409, {code: 'version_mismatch', message: 'Error'})
      res.writeHead(404, {'content-type': 'text/html'})
      res.end('<!DOCTYPE html><pre>Cannot POST /flows/state</pre>')
    })
    const c = client(url)
    const unauthorized = await failure(c.getFlows())
    expect(unauthorized.kind).toBe('unauthorized')
    expect(unauthorized.message).toBe('r1: GET /flows: not authorized (HTTP 401)')
    expect(unauthorized.message).not.toContain('sekrit')
    expect(unauthorized.hint).toMatch(/FF_HA_ADMIN_TOKEN/)
    expect(seen.length).toBe(1)
    expect((await failure(c.postFlows([], {rev: 'old'}))).kind).toBe('conflict')
    expect((await failure(c.setFlowsState('stop'))).kind).toBe('state-api-disabled')
  })

  it('says in words that nothing listens, and gives up on a server that does not answer in time', async () => {
    const port = await freePort()
    const refused = await failure(client(`http://127.0.0.1:${port}/`, {retries: 0}).getFlows())
    expect(refused.kind).toBe('unreachable')
    expect(refused.message).toBe(`r1: GET /flows: connection refused by http://127.0.0.1:${port} (nothing listens there: is the replica running?)`)
    const {url} = await serve(() => {})
    const slow = await failure(client(url, {retries: 0, requestTimeoutMs: 200}).getFlowsState())
    expect(slow.kind).toBe('timeout')
    expect(slow.message).toBe('r1: GET /flows/state: no answer within 200 ms')
  })

  it('logs in once per replica for parallel calls, and again when the token expires', async () => {
    let issued = 0
    let valid = ''
    const {url, seen} = await serve((req, res) => {
      if (req.url === '/auth/token') {
        const body = JSON.parse(req.body)
        if (body.password !== 'pa55word') return json(res, 403, {message: 'Forbidden'})
        valid = `tok-${++issued}`
        return json(res, 200, {access_token: valid, expires_in: 604800, token_type: 'Bearer'})
      }
      if (req.headers.authorization !== `Bearer ${valid}`) return json(res, 401, {})
      json(res, 200, {state: 'stop'})
    })
    const c = client(url, {auth: {username: 'admin', password: 'pa55word'}})
    expect(await Promise.all([c.getFlowsState(), c.getFlowsState(), c.getFlowsState()])).toEqual(['stop', 'stop', 'stop'])
    expect(seen.filter(s => s.url === '/auth/token').length).toBe(1)
    expect(JSON.parse(seen[0].body)).toMatchObject({client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin'})
    valid = 'expired-elsewhere'
    expect(await c.getFlowsState()).toBe('stop')
    expect(issued).toBe(2)
    const wrong = await failure(client(url, {auth: {username: 'admin', password: 'wrong-pass'}}).getFlows())
    expect(wrong.kind).toBe('unauthorized')
    expect(wrong.message).toBe('r1: login refused for user "admin" (HTTP 403)')
    expect(wrong.message).not.toContain('wrong-pass')
  })

  it('reports too many logins as such (Node-RED: 5 per user in 10 minutes, then HTTP 500)', async () => {
    const {url} = await serve((_req, res) => json(res, 500, {message: 'Too many login attempts. Wait 10 minutes and try again'}))
    const err = await failure(client(url, {auth: {username: 'admin', password: 'pa55word'}}).getFlows())
    expect(err.kind).toBe('too-many-logins')
    expect(err.hint).toMatch(/shared admin token/)
  })
})

describe('waitForFlowsStarted', () => {
  it('says "not available" (false) when there is no comms websocket, as with the editor disabled', async () => {
    const {url} = await serve((req, res) => (req.url === '/auth/login' ? json(res, 200, {}) : json(res, 404, {})))
    expect(await client(url).waitForFlowsStarted('abc', 2000)).toBe(false)
  })

  it('asks GET auth/login whether the replica has adminAuth ({} without it), once per client', async () => {
    let login: unknown = {}
    const {url, seen} = await serve((_req, res) => json(res, 200, login))
    const off = client(url)
    expect(await off.adminAuthEnabled()).toBe(false)
    expect(await off.adminAuthEnabled()).toBe(false)
    expect(seen.filter(r => r.url === '/auth/login')).toHaveLength(1)
    login = {type: 'credentials', prompts: [{id: 'username', type: 'text', label: 'user.username'}]}
    expect(await client(url).adminAuthEnabled()).toBe(true)
  })
})

describe('answer size', () => {
  it('stops reading an endless answer at the limit: an error naming the replica and the limit, memory bounded', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x')
    const {url} = await serve((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump)
      }
      res.on('close', () => res.destroy())
      pump()
    })
    const before = process.memoryUsage()
    const err = await failure(client(url, {retries: 0, maxResponseBytes: 8 * 1024 * 1024}).getFlows())
    const after = process.memoryUsage()
    expect(err.kind).toBe('too-large')
    expect(err.message).toBe('r1: GET /flows: the answer is larger than 8 MiB, the most ff-ha reads from a replica')
    expect(err.hint).toMatch(/nodeRed.apiMaxLength/)
    expect(after.rss - before.rss).toBeLessThan(200 * 1024 * 1024)
  })

  it('the default limit (64 MiB) holds for a 200 MB answer', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x')
    let sent = 0
    const {url} = await serve((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json', 'content-length': String(200 * chunk.length)})
      const pump = () => {
        while (!res.destroyed && sent < 200 && res.write(chunk)) sent++
        if (!res.destroyed && sent < 200) res.once('drain', pump)
        else if (sent >= 200) res.end()
      }
      pump()
    })
    const err = await failure(client(url, {retries: 0}).getFlows())
    expect(err.message).toBe('r1: GET /flows: the answer is larger than 64 MiB, the most ff-ha reads from a replica')
    expect(sent).toBeLessThan(200)
  })

  it('names HTTP 413 as the replica\'s apiMaxLength, with the size sent and the profile\'s value', async () => {
    const {url} = await serve((_req, res) => json(res, 413, {message: 'request entity too large'}))
    const flows = [{id: 'n1', type: 'comment', info: 'x'.repeat(2 * 1024 * 1024)}]
    const err = await failure(client(url, {apiMaxLength: '50mb'}).postFlows(flows))
    expect(err.kind).toBe('too-large')
    expect(err.message).toBe("r1: POST /flows: HTTP 413, the replica refused a 2.0 MiB request: larger than its apiMaxLength (Node-RED's default is 5mb; the profile renders apiMaxLength 50mb)")
    expect(err.hint).toMatch(/raise nodeRed.apiMaxLength in the profile/)
  })
})

describe('TLS', () => {
  it('trusts a CA file, refuses an unknown certificate in words, and skips the check only with insecure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-tls-'))
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {stdio: 'ignore'})
      const {url} = await serve((_req, res) => json(res, 200, {state: 'start'}), () => createHttps({key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem'))}))
      const https = url.replace('http:', 'https:')
      expect(await client(https, {caFile: join(dir, 'cert.pem')}).getFlowsState()).toBe('start')
      const untrusted = await failure(client(https, {retries: 0}).getFlowsState())
      expect(untrusted.kind).toBe('unreachable')
      expect(untrusted.message).toMatch(/TLS certificate of https:\/\/127\.0\.0\.1:\d+ not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): pass --ca-file, or --insecure/)
      expect(await client(https, {insecure: true}).getFlowsState()).toBe('start')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('getAgentStatus', () => {
  it('reads the role from an agent, and refuses an unknown one', async () => {
    let role = 'spare'
    const {url} = await serve((_req, res) => json(res, 200, {replica: 'r1', role}))
    expect((await getAgentStatus('r1', url)).role).toBe('spare')
    role = 'leader'
    await expect(getAgentStatus('r1', url)).rejects.toThrow('r1: agent GET /status: unknown role "leader"')
    const port = await freePort()
    await expect(getAgentStatus('r1', `http://127.0.0.1:${port}`)).rejects.toThrow(/r1: agent: connection refused/)
  })

  it('sends the status token as a bearer token; a 401 says the agent wants one', async () => {
    const {url, seen} = await serve((req, res) => (req.headers.authorization === 'Bearer status-token-xyz' ? json(res, 200, {role: 'active'}) : json(res, 401, {error: 'token'})))
    expect((await getAgentStatus('r1', url, 1000, 'status-token-xyz')).role).toBe('active')
    expect(seen[0].headers.authorization).toBe('Bearer status-token-xyz')
    await expect(getAgentStatus('r1', url)).rejects.toThrow(/r1: agent GET \/status: HTTP 401, the agent has a status token \(export FF_HA_STATUS_TOKEN/)
  })

  it('refuses an answer far larger than any agent status', async () => {
    const {url} = await serve((_req, res) => json(res, 200, {role: 'active', pad: 'x'.repeat(1024 * 1024)}))
    await expect(getAgentStatus('r1', url)).rejects.toThrow(/larger than 64 KiB/)
  })
})
