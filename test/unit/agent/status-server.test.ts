import type {Server} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {request} from 'undici'
import {AgentMetrics} from '../../../src/agent/metrics.js'
import {startStatusServer, type StatusSource} from '../../../src/agent/status-server.js'
import {registerSecret} from '../../../src/output/secrets.js'
import type {AgentStatus} from '../../../src/agent/status.js'
import {freePort} from '../../../src/net/free-port.js'

const status: AgentStatus = {replica: 'a', mode: 'hot-spare', role: 'active', leaseHolder: 'a', fencingToken: 7, leaseExpiresAt: 1, nodeRedPid: 42, flowsState: 'start', rev: 'abc', restarts: 2, since: 3}

describe('status server', () => {
  let server: Server
  afterEach(() => new Promise(r => server.close(r)))

  it('serves /healthz, /active, /status and /metrics with the right codes and types', async () => {
    const port = await freePort()
    const metrics = new AgentMetrics('a')
    metrics.observeHealthCheck(0.004)
    metrics.observeHealthCheck(0.3)
    metrics.restarts = 2
    let active = true
    let healthy = true
    server = await startStatusServer(
      {
        status: () => status,
        health: () => (healthy ? {ok: true} : {ok: false, reason: 'crash loop: boom'}),
        active: () => active,
        metrics: () => metrics.render('active', 7),
      },
      {host: '127.0.0.1', port},
    )
    const get = async (path: string) => {
      const res = await request(`http://127.0.0.1:${port}${path}`)
      return {code: res.statusCode, type: String(res.headers['content-type']), body: await res.body.text()}
    }
    expect(await get('/healthz')).toMatchObject({code: 200, body: '{"ok":true}'})
    expect(await get('/active')).toMatchObject({code: 200})
    expect(JSON.parse((await get('/status')).body)).toEqual(status)
    const m = await get('/metrics')
    expect(m.type).toMatch(/text\/plain; version=0.0.4/)
    expect(m.body).toContain('ff_ha_agent_role{replica="a",role="active"} 1')
    expect(m.body).toContain('ff_ha_agent_role{replica="a",role="spare"} 0')
    expect(m.body).toContain('ff_ha_agent_lease_transitions{replica="a"} 7')
    expect(m.body).toContain('ff_ha_agent_node_red_restarts_total{replica="a"} 2')
    // prom-client writes `le` first; label order means nothing to Prometheus.
    expect(m.body).toContain('ff_ha_agent_health_check_duration_seconds_bucket{le="0.005",replica="a"} 1')
    expect(m.body).toContain('ff_ha_agent_health_check_duration_seconds_count{replica="a"} 2')
    active = false
    healthy = false
    expect(await get('/active')).toMatchObject({code: 503})
    expect(await get('/healthz')).toMatchObject({code: 503, body: '{"ok":false,"reason":"crash loop: boom"}'})
    expect((await get('/nope')).code).toBe(404)
  })
})

describe('status server: nothing secret leaves it', () => {
  let server: Server
  afterEach(() => new Promise(r => server.close(r)))

  const start = async (source: Partial<StatusSource>, token?: string) => {
    const port = await freePort()
    server = await startStatusServer(
      {status: () => status, health: () => ({ok: true}), active: () => true, metrics: async () => ({contentType: 'text/plain; version=0.0.4', body: 'm 1\n'}), ...source},
      {host: '127.0.0.1', port, token},
    )
    return async (path: string, headers: Record<string, string> = {}) => {
      const res = await request(`http://127.0.0.1:${port}${path}`, {headers})
      return {code: res.statusCode, body: await res.body.text()}
    }
  }

  it('scrubs registered secrets from every body: a crash-loop reason that quotes a log line with the token, an error, the status', async () => {
    const token = 'leaky-admin-token-9f8e7d6c5b'
    const quoted = 'secret-with-"quote"-and-\\backslash'
    registerSecret(token)
    registerSecret(quoted)
    const get = await start({
      health: () => ({ok: false, reason: `crash loop: Node-RED exited 5 times; last log: token=${token} other=${quoted}`}),
      status: () => ({...status, rev: token}),
      metrics: async () => {
        throw new Error(`cannot render metrics for ${token}`)
      },
    })
    const healthz = await get('/healthz')
    expect(healthz.code).toBe(503)
    expect(healthz.body).not.toContain(token)
    expect(healthz.body).not.toContain('quote')
    expect(JSON.parse(healthz.body).reason).toBe('crash loop: Node-RED exited 5 times; last log: token=*** other=***')
    const s = await get('/status')
    expect(s.body).not.toContain(token)
    expect(JSON.parse(s.body).rev).toBe('***')
    const m = await get('/metrics')
    expect(m.code).toBe(500)
    expect(m.body).not.toContain(token)
  })

  it('with a status token, /status and /metrics need it as a bearer token; /healthz and /active stay open', async () => {
    const token = 'status-token-0123456789abcdef'
    const get = await start({}, token)
    expect((await get('/healthz')).code).toBe(200)
    expect((await get('/active')).code).toBe(200)
    for (const path of ['/status', '/metrics']) {
      expect((await get(path)).code).toBe(401)
      expect((await get(path, {authorization: 'Bearer wrong-token'})).code).toBe(401)
      expect((await get(path, {authorization: token})).code).toBe(401)
      expect((await get(path, {authorization: `Bearer ${token}`})).code).toBe(200)
    }
    expect(JSON.parse((await get('/status', {authorization: `Bearer ${token}`})).body)).toEqual(status)
    expect((await get('/status')).body).not.toContain(token)
  })

  it('without a status token, every path is open (the default, on 127.0.0.1)', async () => {
    const get = await start({})
    expect((await get('/status')).code).toBe(200)
    expect((await get('/metrics')).code).toBe(200)
  })
})

describe('status server: POST /handover', () => {
  let server: Server
  afterEach(() => new Promise(r => server.close(r)))
  const token = 'status-token-for-handover-0123456789'
  const answer = {handedOver: true, from: 'a', to: 'b', taken: true, holder: 'b', fencingToken: 8, ms: 120}

  const start = async (withToken: boolean, seen: unknown[]) => {
    const port = await freePort()
    server = await startStatusServer(
      {
        status: () => status,
        health: () => ({ok: true}),
        active: () => true,
        metrics: async () => ({contentType: 'text/plain', body: ''}),
        handover: async req => {
          seen.push(req)
          return {code: 200, body: answer}
        },
      },
      {host: '127.0.0.1', port, token: withToken ? token : undefined},
    )
    return async (body: string | undefined, headers: Record<string, string> = {}, method: 'POST' | 'GET' = 'POST') => {
      const res = await request(`http://127.0.0.1:${port}/handover`, {method, body, headers: {'content-type': 'application/json', ...headers}})
      return {code: res.statusCode, body: JSON.parse(await res.body.text()) as Record<string, unknown>}
    }
  }

  it('is refused (403) by an agent without a status token, whoever asks, even from 127.0.0.1: flows run on that host too', async () => {
    const seen: unknown[] = []
    const post = await start(false, seen)
    const r = await post('{"to": "b"}', {authorization: 'Bearer anything'})
    expect(r.code).toBe(403)
    expect(r.body.error).toMatch(/^handover is disabled on this agent: it has no status token; set the variable named by secrets.statusTokenEnv/)
    expect(seen).toEqual([])
  })

  it('needs the status token as a bearer token; then passes the parsed request to the agent and its answer back', async () => {
    const seen: unknown[] = []
    const post = await start(true, seen)
    expect((await post('{}')).code).toBe(401)
    expect((await post('{}', {authorization: 'Bearer wrong'})).code).toBe(401)
    expect((await post('{}', {authorization: `Bearer ${token}`}, 'GET')).code).toBe(405)
    expect(seen).toEqual([])
    const ok = await post('{"to": "b", "timeoutMs": 5000}', {authorization: `Bearer ${token}`})
    expect(ok).toEqual({code: 200, body: answer})
    await post(undefined, {authorization: `Bearer ${token}`})
    expect(seen).toEqual([{to: 'b', timeoutMs: 5000}, {}])
  })

  it('answers 400 with one line for a body it cannot use, and never calls the agent', async () => {
    const seen: unknown[] = []
    const post = await start(true, seen)
    const auth = {authorization: `Bearer ${token}`}
    expect(await post('not json', auth)).toEqual({code: 400, body: {error: 'the body is not JSON: send {"to": "<replica>"} or nothing'}})
    expect(await post('{"to": "../etc"}', auth)).toEqual({code: 400, body: {error: '"to" must be a replica name'}})
    expect(await post('{"to": "b", "timeoutMs": -1}', auth)).toEqual({code: 400, body: {error: '"timeoutMs" must be a number of ms from 0 to 600000'}})
    expect(await post('[1]', auth)).toEqual({code: 400, body: {error: 'the body must be a JSON object'}})
    expect((await post(JSON.stringify({to: 'b', pad: 'x'.repeat(5000)}), auth)).code).toBe(400)
    expect(seen).toEqual([])
  })
})
