import type {Server} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {request} from 'undici'
import {AgentMetrics} from '../../../src/agent/metrics.js'
import {startStatusServer} from '../../../src/agent/status-server.js'
import type {AgentStatus} from '../../../src/agent/status.js'
import {freePort} from '../../../src/net/free-port.js'

const status: AgentStatus = {replica: 'a', mode: 'hot-spare', role: 'active', leaseHolder: 'a', fencingToken: 7, leaseExpiresAt: 1, nodeRedPid: 42, flowsState: 'start', rev: 'abc', restarts: 2, since: 3}

describe('status server', () => {
  let server: Server
  afterEach(() => new Promise(r => server.close(r)))

  it('serves /healthz, /active, /status and /metrics with the right codes and types', async () => {
    const port = await freePort()
    const metrics = new AgentMetrics()
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
        metrics: () => metrics.render('a', 'active', 7),
      },
      '127.0.0.1',
      port,
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
    expect(m.body).toContain('ff_ha_agent_health_check_duration_seconds_bucket{replica="a",le="0.005"} 1')
    expect(m.body).toContain('ff_ha_agent_health_check_duration_seconds_count{replica="a"} 2')
    active = false
    healthy = false
    expect(await get('/active')).toMatchObject({code: 503})
    expect(await get('/healthz')).toMatchObject({code: 503, body: '{"ok":false,"reason":"crash loop: boom"}'})
    expect((await get('/nope')).code).toBe(404)
  })
})
