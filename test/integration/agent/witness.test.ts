import {createServer, type Server, type Socket} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {freePort} from '../../../src/net/free-port.js'
import {FlowsWatcher, startAgents, sleep, type AgentSet} from '../../../harness/agents.js'

// failover.witness: the active must reach host:port to keep its lease. Here the witness is a TCP listener
// in the test; "the network is cut" is the listener going away (the partition drill does it with ip netns).
describe('ff-ha agent: the witness (real agents, a real TCP witness)', () => {
  let set: AgentSet
  let watcher: FlowsWatcher
  let port: number
  let server: Server | null = null
  const sockets = new Set<Socket>()

  const openWitness = () =>
    new Promise<void>(resolve => {
      server = createServer(s => {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.end()
      })
      server.listen(port, '127.0.0.1', () => resolve())
    })
  const closeWitness = () =>
    new Promise<void>(resolve => {
      for (const s of sockets) s.destroy()
      server ? server.close(() => resolve()) : resolve()
      server = null
    })

  beforeAll(async () => {
    port = await freePort()
    await openWitness()
    set = await startAgents({replicas: 2, profile: `name: witness-test\nmode: hot-spare\nfailover:\n  witness: 127.0.0.1:${port}\n`})
    watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
    await set.waitForActive(90_000)
    await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active' || s.role === 'spare', 90_000, 'spare or active')))
  }, 120_000)

  afterAll(async () => {
    await watcher?.stop()
    await set?.stop()
    await closeWitness()
  })

  it('when nobody can reach the witness, the active stops its flows, then releases, and no spare takes over', async () => {
    const active = await set.waitForActive()
    const from = active.events.length
    await closeWitness()
    // How soon (renewDeadline after the last reach) is proved with a fake clock in supervisor-machine.test.ts;
    // here the order: fenced for the witness, flows stopped, then the lease released.
    const fenced = await active.waitForEvent(e => e.event === 'role' && e.role === 'fenced', 30_000, from)
    expect(fenced.reason).toBe('witness-unreachable')
    const released = await active.waitForEvent(e => e.event === 'lease' && e.action === 'released', 30_000, from)
    const stopped = active.events.slice(from).findIndex(e => e.event === 'flows' && e.action === 'stopped')
    expect(stopped).toBeGreaterThan(active.events.slice(from).indexOf(fenced))
    expect(stopped).toBeLessThan(active.events.slice(from).indexOf(released))
    await sleep(1500)
    const statuses = await Promise.all(set.agents.map(a => a.status()))
    expect(statuses.map(s => s!.role)).toEqual(['spare', 'spare'])
    expect(statuses.every(s => s!.leaseHolder === null)).toBe(true)
    expect(await Promise.all(set.agents.map(a => a.flowsState()))).toEqual(['stop', 'stop'])
  }, 60_000)

  it('when the witness is back, one replica becomes active again', async () => {
    await openWitness()
    const active = await set.waitForActive(30_000)
    expect(await active.flowsState()).toBe('start')
    expect(watcher.dualActive()).toEqual([])
  }, 60_000)
})
