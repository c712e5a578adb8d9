import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {performance} from 'node:perf_hooks'
import {FlowsWatcher, describeAround, sleep, startAgents, type AgentProcess, type AgentSet} from '../../../harness/agents.js'

// A whole replica dies at once (agent and Node-RED SIGKILLed, as a container kill or the OOM killer does):
// nobody releases the lease, but the kernel drops the dead processes' POSIX locks, and the spare proves the
// holder gone on its liveness file (src/agent/lease/liveness.ts) and takes the lease BEFORE it would
// expire. Real agents, real Node-RED 4, the sqlite lease in a local temp dir. The test asserts the order
// (the proof, then the acquisition, before the expiry the spare itself computed; a greater token; never two
// actives); the figures are printed, and measured under traffic by bench/failover.
let set: AgentSet
let watcher: FlowsWatcher

async function activeAndSpare(): Promise<{active: AgentProcess; spare: AgentProcess}> {
  const active = await set.waitForActive(90_000)
  const spare = set.agents.find(a => a !== active)!
  await spare.waitForStatus(s => s.role === 'spare', 90_000, 'spare')
  await active.waitForStatus(s => s.role === 'active', 90_000, 'active')
  return {active, spare}
}

describe('ff-ha agent: replica-crash (agent + Node-RED SIGKILL) taken over before the lease expires', () => {
  beforeAll(async () => {
    set = await startAgents({replicas: 2})
    watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
    await activeAndSpare()
  }, 120_000)

  afterAll(async () => {
    await watcher?.stop()
    await set?.stop()
  })

  for (const order of ['agent first', 'Node-RED first'] as const) {
    it(`${order}: the spare proves the holder gone, then acquires, before the dead holder's lease would have expired`, async () => {
      const {active: old, spare} = await activeAndSpare()
      expect(spare.events.some(e => e.event === 'warning')).toBe(false) // early takeover is on: a local filesystem
      const oldToken = (await old.status())!.fencingToken!
      await sleep(300)
      // The expiry of the holder's current tenure, as the spare judges it (its monotonic clock, as epoch ms).
      const before = (await spare.status())!
      expect(before.leaseHolder).toBe(old.name)
      const expiresAt = before.leaseExpiresAt!
      const from = spare.events.length
      const t0 = performance.now()
      const killedAt = Date.now()
      if (order === 'agent first') {
        old.signal('SIGKILL')
        old.signalNodeRed('SIGKILL')
      } else {
        old.signalNodeRed('SIGKILL')
        old.signal('SIGKILL')
      }
      const acquired = await spare.waitForEvent(e => e.event === 'lease' && e.action === 'acquired', 30_000, from)
      const gone = spare.events.slice(from).findIndex(e => e.event === 'lease' && e.action === 'holder-gone' && e.holder === old.name)
      expect(gone, 'the spare logged the proof').toBeGreaterThanOrEqual(0)
      expect(gone).toBeLessThan(spare.events.slice(from).indexOf(acquired))
      const acquiredAt = Date.parse(String(acquired.ts))
      expect(acquiredAt).toBeLessThan(expiresAt)
      expect(acquired.fencingToken).toBeGreaterThan(oldToken)
      expect(acquired.previousHolder).toBe(old.name)
      await spare.waitForStatus(s => s.role === 'active', 30_000, 'active')
      const takeoverMs = watcher.firstRunning(spare.name, t0)! - t0
      console.log(`replica-crash (${order}): acquired ${acquiredAt - killedAt} ms after the kill, ${expiresAt - acquiredAt} ms before the lease would have expired; flows running after ${Math.round(takeoverMs)} ms`)
      const dual = watcher.dualActive(t0 - 1000)
      if (dual.length) console.log(describeAround(set, watcher, dual[0].from))
      expect(dual).toEqual([])
      // The dead replica comes back as a spare (its own lock file is taken again, the same way).
      await old.exited
      old.spawn()
      await old.waitForStatus(s => s.role === 'spare', 90_000, 'spare again')
    }, 240_000)
  }
})
