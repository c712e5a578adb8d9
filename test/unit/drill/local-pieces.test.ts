import {createServer, type Server} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {AgentStatusClient} from '../../../src/admin/agent.js'
import {recordRole} from '../../../src/drill/topology/role-log.js'
import type {RoleEvent} from '../../../src/drill/types.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => new Promise(r => s.close(r))))
})

function agent(answer: (path: string) => [number, string]): Promise<string> {
  const server = createServer((req, res) => {
    const [status, body] = answer(req.url ?? '/')
    res.writeHead(status, {'content-type': 'application/json'}).end(body)
  })
  servers.push(server)
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as {port: number}).port}`)))
}

describe('recordRole', () => {
  it('records a replica\'s role changes from its log lines, once per change', () => {
    const events: RoleEvent[] = []
    const line = (role: string) => JSON.stringify({event: 'role', role, replica: 'a'})
    for (const l of [line('starting'), line('spare'), line('spare'), 'Welcome to Node-RED', line('active'), '{"event":"lease"}', line('leader')]) recordRole(events, 'a', l)
    recordRole(events, 'b', line('spare'))
    expect(events.map(e => `${e.replica}=${e.role}`)).toEqual(['a=starting', 'a=spare', 'a=active', 'b=spare'])
    expect(events.every((e, i) => i === 0 || e.t >= events[i - 1].t)).toBe(true)
  })
})

describe('AgentStatusClient (the drill\'s and deploy\'s one reader of /status)', () => {
  it('reads a status and health, and answers undefined / false for anything that is not an agent', async () => {
    const good = await agent(p => (p === '/status' ? [200, '{"role":"spare","nodeRedPid":42,"flowsState":"stop"}'] : [200, 'ok']))
    const odd = await agent(p => (p === '/status' ? [200, '{"role":"leader"}'] : [503, 'down']))
    const broken = await agent(() => [500, 'oops'])
    const client = new AgentStatusClient({timeoutMs: 1000})
    try {
      expect(await client.status('a', good)).toMatchObject({role: 'spare', nodeRedPid: 42, flowsState: 'stop'})
      expect(await client.healthy(good)).toBe(true)
      expect(await client.status('b', odd)).toBeUndefined()
      expect(await client.healthy(odd)).toBe(false)
      expect(await client.status('c', broken)).toBeUndefined()
      expect(await client.status('d', 'http://127.0.0.1:1/')).toBeUndefined()
    } finally {
      await client.close()
    }
  })
})
