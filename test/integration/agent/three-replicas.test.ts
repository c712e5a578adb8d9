import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {FlowsWatcher, startAgents, type AgentSet} from '../../../harness/agents.js'

// Three real agents and Node-REDs on one sqlite lease: one active, two spares; kill the active Node-RED
// twice: each time exactly one spare takes over, with a bigger fencing token, never two at once.
describe('ff-ha agent: three replicas on one sqlite lease', () => {
  let set: AgentSet
  let watcher: FlowsWatcher

  beforeAll(async () => {
    set = await startAgents({replicas: 3})
    watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
    await set.waitForActive(120_000)
    await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active' || s.role === 'spare', 120_000, 'spare or active')))
  }, 150_000)

  afterAll(async () => {
    await watcher?.stop()
    await set?.stop()
  })

  it('one active, two spares, all agreeing on the holder and the token', async () => {
    const active = await set.waitForActive()
    const statuses = await Promise.all(set.agents.map(a => a.status()))
    expect(statuses.map(s => s!.role).sort()).toEqual(['active', 'spare', 'spare'])
    const token = statuses.find(s => s!.role === 'active')!.fencingToken
    for (const s of statuses) expect(s).toMatchObject({leaseHolder: active.name, fencingToken: token})
    expect((await Promise.all(set.agents.map(a => a.activeCode()))).filter(c => c === 200)).toHaveLength(1)
  })

  it('kill -9 of the active Node-RED, twice: one spare takes over each time, the token grows', async () => {
    const tokens: number[] = [(await (await set.waitForActive()).status())!.fencingToken!]
    const actives: string[] = []
    for (let round = 0; round < 2; round++) {
      const active = await set.waitForActive()
      actives.push(active.name)
      active.signalNodeRed('SIGKILL')
      const next = await set.waitForActive(20_000, active.name)
      tokens.push((await next.status())!.fencingToken!)
      // Wait until the killed one is back as a spare before the next round.
      await active.waitForStatus(s => s.role === 'spare', 90_000, 'back as a spare')
    }
    expect(tokens[1]).toBeGreaterThan(tokens[0])
    expect(tokens[2]).toBeGreaterThan(tokens[1])
    expect(actives[0]).not.toBe(actives[1])
    expect(watcher.dualActive()).toEqual([])
  }, 200_000)
})
