import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {startAgent, type AgentHandle} from '../../../src/agent/agent.js'
import {resolveAgentConfig} from '../../../src/agent/config.js'
import {freePorts} from '../../../src/net/free-port.js'
import {packageRoot} from '../../../src/paths.js'
import {MemoryLeaseStore} from '../../unit/agent/fakes.js'

// The agent in this process, against a FAKE Node-RED (fixtures/fake-node-red.mjs, run as the command after
// "--") and an in-memory lease store shared by the agents: the orchestration paths that real Node-RED shows
// only now and then. The real thing (separate agent processes, real Node-RED, sqlite) is in
// test/integration/agent/.
const FAKE = join(packageRoot, 'test', 'integration', 'agent', 'fixtures', 'fake-node-red.mjs')

interface Running {
  agent: AgentHandle
  events: Record<string, unknown>[]
  userDir: string
}

describe('agent orchestration against a fake Node-RED', () => {
  const started: Running[] = []
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map(r => r.agent.stop('test over')))
    for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
  })

  async function run(name: string, store: MemoryLeaseStore, fakeEnv: Record<string, string> = {}, bootTimeoutMs?: number): Promise<Running> {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-agent-orch-'))
    dirs.push(dir)
    const [nodeRedPort, statusPort] = await freePorts(2)
    const config = resolveAgentConfig(
      {replica: name, userDir: join(dir, 'ud'), nodeRedPort, statusPort, statusHost: '127.0.0.1', command: [process.execPath, FAKE]},
      {FF_HA_ADMIN_TOKEN: 'orch-token-123456', FF_HA_CREDENTIAL_SECRET: 'orch-secret-123456', PATH: process.env.PATH, ...fakeEnv},
      dir,
    )
    if (bootTimeoutMs) config.bootTimeoutMs = bootTimeoutMs
    const events: Record<string, unknown>[] = []
    const agent = await startAgent(config, {store, log: (event, fields = {}) => events.push({event, ...fields})})
    const r = {agent, events, userDir: config.userDir}
    started.push(r)
    return r
  }

  async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!fn()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise(r => setTimeout(r, 10))
    }
  }

  it('a Node-RED that takes longer than the boot timeout to load, on the CPU all along, is loading, not hung', async () => {
    const a = await run('a', new MemoryLeaseStore(), {FAKE_BOOT_BUSY_MS: '2000'}, 300)
    await until('active', () => a.agent.status().role === 'active', 20_000)
    expect(a.events.filter(e => e.action === 'kill')).toEqual([])
    expect(a.events.filter(e => e.event === 'node-red-exit')).toEqual([])
  })

  it('one that waits without using the CPU past the boot timeout is killed', async () => {
    const a = await run('a', new MemoryLeaseStore(), {FAKE_BOOT_IDLE_MS: '60000'}, 300)
    await until('killed', () => a.events.some(e => e.event === 'node-red-exit'), 20_000)
    expect(a.events.find(e => e.action === 'kill')?.reason).toMatch(/^Node-RED did not load its flows within \d+ ms$/)
  })

  it('retries the early-boot 500 of POST /flows/state start, then reports active', async () => {
    const a = await run('a', new MemoryLeaseStore(), {FAKE_START_500: '3'})
    await until('active', () => a.agent.status().role === 'active')
    const log = readFileSync(join(a.userDir, 'node-red.log'), 'utf8')
    expect(log.match(/POST start/g)).toHaveLength(4)
    expect(a.events.find(e => e.event === 'flows' && e.action === 'start-retry')).toMatchObject({attempts: 1, error: 'server-error 500'})
    expect(a.events.find(e => e.event === 'role' && e.role === 'active')).toMatchObject({attempts: 4, from: 'spare'})
    expect(a.agent.status()).toMatchObject({leaseHolder: 'a', fencingToken: 1, flowsState: 'start'})
  })

  it('a stop that Node-RED does not confirm within the bound gets it killed, and restarted as a spare', async () => {
    const store = new MemoryLeaseStore()
    const a = await run('a', store, {FAKE_STOP_HANGS: '1'})
    await until('active', () => a.agent.status().role === 'active')
    // Someone else takes the lease: the agent must stop its flows now; the fake never confirms the stop.
    store.record = {...store.record!, holder: 'intruder', transitions: 99}
    store.version++
    await until('killed', () => a.events.some(e => e.event === 'node-red-exit'))
    const fenced = a.events.find(e => e.event === 'role' && e.role === 'fenced')
    expect(fenced).toMatchObject({reason: 'lease-lost'})
    // Lease lost: another replica holds it, so the kill is immediate rather than after the API bound.
    expect(a.events.find(e => e.event === 'flows' && e.action === 'kill')?.reason).toMatch(/another replica may already hold the lease/)
    await until('spare again', () => a.agent.status().role === 'spare')
  })

  it('when the lease is not known to be taken, asks for the stop first, and kills only after stopBoundMs', async () => {
    const store = new MemoryLeaseStore()
    const a = await run('a', store, {FAKE_STOP_HANGS: '1'})
    await until('active', () => a.agent.status().role === 'active')
    const t0 = Date.now()
    // The store fails every write from now on: the renew deadline (1.5 s) passes while awake.
    const write = store.write.bind(store)
    store.write = async () => {
      throw new Error('disk I/O error')
    }
    await until('fenced', () => a.events.some(e => e.event === 'role' && e.role === 'fenced'), 5000)
    expect(a.events.find(e => e.event === 'role' && e.role === 'fenced')).toMatchObject({reason: 'renew-deadline'})
    await until('killed', () => a.events.some(e => e.event === 'node-red-exit'))
    const stopFailed = a.events.find(e => e.event === 'flows' && e.action === 'stop-failed')
    expect(stopFailed).toMatchObject({error: 'timeout'})
    expect(Date.now() - t0).toBeGreaterThan(1400)
    store.write = write
  })

  it("ignores Node-RED's boot-time 'start' misreport: no fence, and the replica becomes active normally", async () => {
    const a = await run('a', new MemoryLeaseStore(), {FAKE_BOOT_MISREPORT_MS: '400'})
    await until('active', () => a.agent.status().role === 'active')
    expect(a.events.some(e => e.event === 'unexpected-start')).toBe(false)
    expect(a.events.some(e => e.event === 'node-red-exit')).toBe(false)
  })

  it('a Node-RED that booted with flows started (no lease) is stopped', async () => {
    const store = new MemoryLeaseStore()
    const holder = await run('holder', store)
    await until('holder active', () => holder.agent.status().role === 'active')
    const b = await run('b', store, {FAKE_BOOT_STARTED: '1'})
    await until('unexpected start seen', () => b.events.some(e => e.event === 'unexpected-start'), 5000)
    await until('stopped', () => b.events.some(e => e.event === 'flows' && e.action === 'stopped'))
    await until('spare', () => b.agent.status().role === 'spare')
    expect(b.agent.status().flowsState).toBe('stop')
    expect(holder.agent.status().role).toBe('active')
  })

  it('two agents on one store: one active; a graceful stop of the active hands over within a second', async () => {
    const store = new MemoryLeaseStore()
    const a = await run('a', store)
    await until('a active', () => a.agent.status().role === 'active')
    const b = await run('b', store)
    await until('b spare', () => b.agent.status().role === 'spare')
    const t0 = Date.now()
    await a.agent.stop('SIGTERM')
    await until('b active', () => b.agent.status().role === 'active', 3000)
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(b.agent.status().fencingToken).toBe(2)
    expect(a.events.map(e => (e.event === 'lease' ? `lease ${e.action}` : String(e.event))).filter(e => /^(lease .*|flows|stopped)$/.test(e))).toEqual(['lease acquired', 'flows', 'lease released', 'stopped'])
  })
})
