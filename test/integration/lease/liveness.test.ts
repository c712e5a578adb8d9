import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LivenessLocks, livenessFile, nonLocalFilesystem} from '../../../src/agent/lease/liveness.js'
import {PARENT_WATCH} from '../../../src/agent/node-red-child.js'
import {packageRoot} from '../../../src/paths.js'

// The liveness lock with real processes and the real kernel: an agent-side process (liveness-worker.ts,
// what the agent does at start) and a "Node-RED" process that runs the agent's real preload (what every
// Node-RED the agent starts runs before red.js). The test process is the candidate that probes. Killing
// them with SIGKILL is what a container kill or the OOM killer does.
const worker = join(packageRoot, 'test', 'integration', 'lease', 'liveness-worker.ts')

let dir: string
let leaseFile: string
let preload: string
const children: ChildProcess[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-liveness-'))
  leaseFile = join(dir, 'lease.db')
  preload = join(dir, 'preload.cjs')
  writeFileSync(preload, PARENT_WATCH)
})
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  rmSync(dir, {recursive: true, force: true})
})

function firstLine(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let err = ''
    child.stderr!.on('data', d => (err += d))
    createInterface({input: child.stdout!}).once('line', line => resolve(JSON.parse(line) as Record<string, unknown>))
    child.once('exit', code => reject(new Error(`exited with ${code} before a line: ${err}`)))
  })
}

/** The agent side of replica `identity`, holding its lock. */
async function agentSide(identity: string, covered: boolean): Promise<{child: ChildProcess; line: Record<string, unknown>}> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', worker, leaseFile, identity, covered ? '1' : '0'], {cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe']})
  children.push(child)
  return {child, line: await firstLine(child)}
}

/** A Node-RED stand-in: node with the agent's preload and the liveness environment the agent passes. */
async function nodeRedSide(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--require', preload, '-e', 'console.log(JSON.stringify({up: true})); setInterval(() => {}, 1 << 30)'], {env: {PATH: process.env.PATH ?? '', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  children.push(child)
  await firstLine(child)
  return child
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill(signal)
  })
}

describe('liveness locks (real processes, real POSIX locks)', () => {
  it('a replica is proven gone only once its agent AND its Node-RED are dead, whichever dies first', async () => {
    const candidate = new LivenessLocks(leaseFile, 'test-lease', 'b', true)
    candidate.hold()
    for (const agentFirst of [true, false]) {
      const agent = await agentSide('a', true)
      expect(agent.line.held).toBe(true)
      const nodeRed = await nodeRedSide(agent.line.env as Record<string, string>)
      expect(candidate.holderGone('a')).toBe(false)
      await kill(agentFirst ? agent.child : nodeRed)
      // the orphaned Node-RED (or the agent restarting its Node-RED) still holds it: no proof
      expect(candidate.holderGone('a')).toBe(false)
      await kill(agentFirst ? nodeRed : agent.child)
      expect(candidate.holderGone('a')).toBe(true)
    }
    candidate.close()
  }, 60_000)

  it('a frozen replica (SIGSTOP) still holds its lock: no proof, expiry rules', async () => {
    const candidate = new LivenessLocks(leaseFile, 'test-lease', 'b', true)
    const agent = await agentSide('a', true)
    const nodeRed = await nodeRedSide(agent.line.env as Record<string, string>)
    agent.child.kill('SIGSTOP')
    nodeRed.kill('SIGSTOP')
    try {
      expect(candidate.holderGone('a')).toBe(false)
    } finally {
      agent.child.kill('SIGCONT')
      nodeRed.kill('SIGCONT')
    }
  }, 60_000)

  it('a replica whose Node-RED cannot hold the lock (covered 0) is never proven gone; nor one that never ran, nor ourselves', async () => {
    const candidate = new LivenessLocks(leaseFile, 'test-lease', 'b', true)
    candidate.hold()
    const agent = await agentSide('a', false)
    expect(agent.line.env).toBeNull()
    await kill(agent.child)
    expect(candidate.holderGone('a')).toBe(false)
    expect(candidate.holderGone('never-started')).toBe(false)
    expect(candidate.holderGone('b')).toBe(false)
    candidate.close()
  }, 60_000)

  it('a failed probe leaves no lock behind: the holder restarts its Node-RED at once', async () => {
    const candidate = new LivenessLocks(leaseFile, 'test-lease', 'b', true)
    const agent = await agentSide('a', true)
    expect(candidate.holderGone('a')).toBe(false)
    const t0 = Date.now()
    const nodeRed = await nodeRedSide(agent.line.env as Record<string, string>)
    expect(nodeRed.exitCode).toBeNull()
    expect(Date.now() - t0).toBeLessThan(5000) // not the preload's busy timeout
  }, 60_000)

  it('the preload refuses to start Node-RED when it cannot hold the lock (exit 70, one line)', async () => {
    const child = spawn(process.execPath, ['--require', preload, '-e', 'console.log("flows would run")'], {
      env: {PATH: process.env.PATH ?? '', FF_HA_LIVENESS_FILE: livenessFile(leaseFile, 'test-lease', 'nobody'), FF_HA_LIVENESS_SQLITE: join(packageRoot, 'node_modules', 'better-sqlite3')},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (err += d))
    const code = await new Promise(resolve => child.once('exit', resolve))
    expect(code).toBe(70)
    expect(out).toBe('')
    expect(err.trim().split('\n')).toHaveLength(1)
    expect(err).toMatch(/cannot hold the liveness lock .*not starting Node-RED/)
  }, 60_000)

  it('a second process of the same replica cannot change what the file says while the first lives', async () => {
    const first = await agentSide('a', true)
    expect(first.line.held).toBe(true)
    const second = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', worker, leaseFile, 'a', '0'], {cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe']})
    children.push(second)
    const line = await firstLine(second)
    expect(line.held).toBe(false)
    expect(line.error).toMatch(/another process of this replica still holds it/)
    // the same answer is fine: it only takes its read lock beside the first
    const same = await agentSide('a', true)
    expect(same.line.held).toBe(true)
  }, 60_000)

  it('knows a local filesystem from others', () => {
    expect(nonLocalFilesystem(dir)).toBeNull()
    expect(nonLocalFilesystem('/proc')).toMatch(/unknown type 0x9fa0/)
    expect(nonLocalFilesystem(join(dir, 'missing'))).toMatch(/cannot read the filesystem type/)
  })
})
