import {describe, expect, it} from 'vitest'
import {AgentMetrics} from '../../../src/agent/metrics.js'

describe('agent metrics', () => {
  it('two agents in one process keep their own registry: no duplicate-name error, no shared counts', async () => {
    const a = new AgentMetrics('a')
    const b = new AgentMetrics('b')
    a.failovers = 3
    a.observeHealthCheck(0.02)
    const [ma, mb] = await Promise.all([a.render('active', 4), b.render('spare', 4)])
    expect(ma.body).toContain('ff_ha_agent_failovers_total{replica="a"} 3')
    expect(ma.body).toContain('ff_ha_agent_health_check_duration_seconds_count{replica="a"} 1')
    expect(mb.body).toContain('ff_ha_agent_failovers_total{replica="b"} 0')
    expect(mb.body).toContain('ff_ha_agent_health_check_duration_seconds_count{replica="b"} 0')
    expect(mb.body).not.toContain('replica="a"')
    expect(mb.body).toContain('ff_ha_agent_active{replica="b"} 0')
  })

  it('counters follow the agent\'s counts across scrapes (set, not added up)', async () => {
    const m = new AgentMetrics('a')
    m.restarts = 2
    await m.render('active', 1)
    m.restarts = 3
    const {body, contentType} = await m.render('active', 2)
    expect(body).toContain('ff_ha_agent_node_red_restarts_total{replica="a"} 3')
    expect(body).toContain('ff_ha_agent_lease_transitions{replica="a"} 2')
    expect(body).toMatch(/# HELP ff_ha_agent_node_red_restarts_total Node-RED restarts.\n# TYPE ff_ha_agent_node_red_restarts_total counter/)
    expect(contentType).toMatch(/^text\/plain; version=0.0.4/)
  })

  it('a replica name with a quote, backslash or line break stays one label value', async () => {
    const {body} = await new AgentMetrics('x"y\\z\nw').render('spare', null)
    expect(body).toContain('ff_ha_agent_active{replica="x\\"y\\\\z\\nw"} 0')
  })
})
