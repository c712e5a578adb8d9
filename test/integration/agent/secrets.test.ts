import {afterEach, describe, expect, it} from 'vitest'
import {request} from 'undici'
import type {FlowNode} from '../../../src/admin/types.js'
import {TEST_CREDENTIAL_SECRET, TEST_TOKEN, startAgents, type AgentSet} from '../../../harness/agents.js'

const STATUS_TOKEN = 'ff-ha-test-status-token-0123456789'

/**
 * A flow that tries every way a flow reads the environment, served on GET /leak: env.get in a function
 * node, $env() in a change node's JSONata, a change node's "env variable" type, and process.env reached
 * from a function node through the sandbox's host objects (Buffer's Function constructor).
 */
function leakFlows(): FlowNode[] {
  const names = ['FF_HA_ADMIN_TOKEN', 'FF_HA_CREDENTIAL_SECRET', 'FF_HA_STATUS_TOKEN']
  const js = JSON.stringify(names)
  return [
    {id: 'leak-tab', type: 'tab', label: 'leak'},
    {id: 'leak-in', type: 'http in', z: 'leak-tab', url: '/leak', method: 'get', x: 100, y: 60, wires: [['leak-envget']]},
    {
      id: 'leak-envget',
      type: 'function',
      z: 'leak-tab',
      outputs: 1,
      func: `msg.replica = env.get('FF_HA_REPLICA'); msg.envGet = ${js}.map(n => env.get(n) ?? null); return msg;`,
      x: 200,
      y: 60,
      wires: [['leak-jsonata']],
    },
    {
      id: 'leak-jsonata',
      type: 'change',
      z: 'leak-tab',
      rules: [
        {t: 'set', p: 'jsonata', pt: 'msg', to: `[${names.map(n => `$env('${n}')`).join(', ')}]`, tot: 'jsonata'},
        {t: 'set', p: 'envType', pt: 'msg', to: 'FF_HA_ADMIN_TOKEN', tot: 'env'},
        {t: 'set', p: 'envType2', pt: 'msg', to: 'FF_HA_CREDENTIAL_SECRET', tot: 'env'},
      ],
      x: 300,
      y: 60,
      wires: [['leak-process']],
    },
    {
      id: 'leak-process',
      type: 'function',
      z: 'leak-tab',
      outputs: 1,
      func: `const proc = Buffer.constructor('return process')(); msg.pid = proc.pid; msg.processEnv = ${js}.map(n => proc.env[n] ?? null); msg.ffHaKeys = Object.keys(proc.env).filter(k => k.startsWith('FF_HA')); msg.payload = {replica: msg.replica, envGet: msg.envGet, jsonata: msg.jsonata, envType: msg.envType, envType2: msg.envType2, pid: msg.pid, processEnv: msg.processEnv, ffHaKeys: msg.ffHaKeys}; return msg;`,
      x: 400,
      y: 60,
      wires: [['leak-out']],
    },
    {id: 'leak-out', type: 'http response', z: 'leak-tab', x: 500, y: 60, wires: []},
  ]
}

describe('ff-ha agent: flows cannot read the secrets (real agent and Node-RED)', () => {
  let set: AgentSet | null = null
  afterEach(async () => {
    await set?.stop()
    set = null
  })

  it.each([['4.1.8'], ['5.0.7']])('Node-RED %s: env.get, $env, the env type and process.env all come back empty for the admin token, credential secret and status token', async version => {
    set = await startAgents({
      replicas: ['leaky'],
      profile: `name: leak-test\nmode: load-balanced\nnodeRed:\n  version: ${version}\n`,
      flows: leakFlows(),
      env: {FF_HA_STATUS_TOKEN: STATUS_TOKEN},
    })
    const agent = set.agents[0]
    await agent.waitForStatus(s => s.role === 'active', 90_000, 'active')
    const res = await request(new URL('leak', agent.nodeRedUrl))
    const text = await res.body.text()
    expect(res.statusCode, text).toBe(200)
    const body = JSON.parse(text)
    // The flow ran and each way of reading works: it reads the replica's name, and it reached the real process.
    expect(body.replica).toBe('leaky')
    expect(body.pid).toBe(agent.nodeRedPid)
    expect(body.ffHaKeys).toContain('FF_HA_REPLICA')
    // ...and none of them yields a secret.
    for (const secret of [TEST_TOKEN, TEST_CREDENTIAL_SECRET, STATUS_TOKEN]) expect(text).not.toContain(secret)
    expect(body.ffHaKeys).not.toContain('FF_HA_ADMIN_TOKEN')
    expect(body.ffHaKeys).not.toContain('FF_HA_CREDENTIAL_SECRET')
    expect(body.ffHaKeys).not.toContain('FF_HA_STATUS_TOKEN')
    // Node-RED still holds what settings.js read: the admin API takes the token, so the agent still runs it.
    expect(await agent.flowsState()).toBe('start')
  }, 120_000)
})
