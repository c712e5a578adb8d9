// Start N real `ff-ha agent` processes (each with its real Node-RED) on one sqlite lease, for tests, the
// agent bench and the failover drill. Also a watcher that samples every replica's /flows/state.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {request} from 'undici'
import type {AgentStatus} from '../src/agent/status.js'
import type {FlowNode, FlowsState} from '../src/admin/types.js'
import {freePorts} from '../src/net/free-port.js'
import {packageRoot} from '../src/paths.js'

export interface AgentEvent {
  ts: string
  replica: string
  event: string
  [key: string]: unknown
}

export {agentCommand} from '../src/drill/topology/agent-command.js'
import {agentCommand} from '../src/drill/topology/agent-command.js'
import {PROBE_PATH, PROBE_TAB_ID, probeFlows as drillProbeFlows} from '../src/drill/probe.js'
import {dualActiveIntervals} from '../src/drill/running.js'
import {DEFAULT_MODE} from '../src/modes/index.js'

/**
 * The drill's probe tab without its MQTT part (src/drill/probe.ts: GET /ff-ha/probe names the replica), plus an
 * inject that ticks, so that "started" means a node runs. Tests and benches use the drill's own probe, not a copy.
 */
export function probeFlows(): FlowNode[] {
  return [
    ...drillProbeFlows({mode: DEFAULT_MODE, runId: 'test', shareGroup: 'test'}),
    {id: 'tick', type: 'inject', z: PROBE_TAB_ID, repeat: '1', once: true, topic: 'tick', payload: '', payloadType: 'date', x: 100, y: 220, wires: [[]]},
  ]
}

/** The probe's path relative to a Node-RED URL (no leading slash, so `new URL(PROBE, url)` keeps httpRoot). */
export const PROBE = PROBE_PATH.slice(1)

export const TEST_TOKEN = 'ff-ha-test-admin-token-0123456789'
export const TEST_CREDENTIAL_SECRET = 'ff-ha-test-credential-secret-0123456789'

export interface StartAgentsOptions {
  /** Replica names, or a count (replicas a, b, c, ...). */
  replicas: number | string[]
  /** ff-ha.yaml text; default a hot-spare profile on the default sqlite timings. */
  profile?: string
  /** Flows written to every userDir before the start (default probeFlows()). */
  flows?: FlowNode[]
  /** Extra environment for every agent. */
  env?: Record<string, string>
  /** Extra agent flags per replica (before any --). */
  args?: (name: string) => string[]
  /** A Node-RED command (after --) per replica; undefined: the bundled node-red. */
  command?: (name: string) => string[] | undefined
  /** Start agents one after another, waiting for each to be spare or active (default false: all at once). */
  sequential?: boolean
  /** Put everything here instead of a new temp dir. */
  dir?: string
}

export class AgentProcess {
  child!: ChildProcess
  readonly events: AgentEvent[] = []
  stderr = ''
  exited!: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  private listeners = new Set<(e: AgentEvent) => void>()
  private lastNodeRedPid: number | null = null

  constructor(
    readonly name: string,
    readonly userDir: string,
    readonly nodeRedPort: number,
    readonly statusPort: number,
    private readonly argv: string[],
    private readonly env: Record<string, string>,
  ) {}

  get statusUrl(): string {
    return `http://127.0.0.1:${this.statusPort}/`
  }

  get nodeRedUrl(): string {
    return `http://127.0.0.1:${this.nodeRedPort}/`
  }

  /** Spawn the agent process (again, after it exited). */
  spawn(): void {
    const {command, args} = agentCommand()
    this.child = spawn(command, [...args, ...this.argv], {cwd: packageRoot, env: this.env, stdio: ['ignore', 'pipe', 'pipe']})
    let buffer = ''
    this.child.stdout!.on('data', chunk => {
      buffer += chunk
      let i
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 1)
        try {
          const event = JSON.parse(line) as AgentEvent
          this.events.push(event)
          if (typeof event.pid === 'number' && event.event === 'node-red-spawn') this.lastNodeRedPid = event.pid
          for (const l of this.listeners) l(event)
        } catch {
          this.stderr += `[stdout, not JSON] ${line}\n`
        }
      }
    })
    this.child.stderr!.on('data', chunk => (this.stderr += chunk))
    this.exited = new Promise(resolve => this.child.once('exit', (code, signal) => resolve({code, signal})))
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** GET /status, or null when the agent does not answer. */
  async status(timeoutMs = 500): Promise<AgentStatus | null> {
    try {
      // With a status token in the agent's environment, /status needs it.
      const token = this.env.FF_HA_STATUS_TOKEN
      const headers = token ? {authorization: `Bearer ${token}`} : undefined
      const res = await request(new URL('status', this.statusUrl), {headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
      if (res.statusCode !== 200) {
        await res.body.dump()
        return null
      }
      return (await res.body.json()) as AgentStatus
    } catch {
      return null
    }
  }

  /** GET /active's status code (0 when unreachable). */
  async activeCode(timeoutMs = 500): Promise<number> {
    try {
      const res = await request(new URL('active', this.statusUrl), {headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
      await res.body.dump()
      return res.statusCode
    } catch {
      return 0
    }
  }

  /** Node-RED's own GET /flows/state, or null when it does not answer in time. */
  flowsState(timeoutMs = 500): Promise<FlowsState | null> {
    return getFlowsState(this.nodeRedUrl, this.env.FF_HA_ADMIN_TOKEN ?? TEST_TOKEN, timeoutMs)
  }

  /** The pid of the Node-RED this agent spawned last (from its log). */
  get nodeRedPid(): number | null {
    return this.lastNodeRedPid
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal)
  }

  signalNodeRed(signal: NodeJS.Signals): number {
    const pid = this.lastNodeRedPid
    if (!pid) throw new Error(`${this.name}: no Node-RED pid seen yet`)
    process.kill(pid, signal)
    return pid
  }

  /** Wait until the agent's /status satisfies `predicate`. */
  async waitForStatus(predicate: (s: AgentStatus) => boolean, timeoutMs = 30_000, what = 'status'): Promise<AgentStatus> {
    const deadline = Date.now() + timeoutMs
    let last: AgentStatus | null = null
    while (Date.now() < deadline) {
      last = await this.status()
      if (last && predicate(last)) return last
      await sleep(25)
    }
    throw new Error(`${this.name}: timed out waiting for ${what}; last status ${JSON.stringify(last)}; stderr: ${this.stderr.slice(-500)}`)
  }

  /** Wait for a log event (already seen after index `from`, or to come). */
  waitForEvent(predicate: (e: AgentEvent) => boolean, timeoutMs = 30_000, from = 0): Promise<AgentEvent> {
    const seen = this.events.slice(from).find(predicate)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener)
        reject(new Error(`${this.name}: timed out waiting for an event; last events: ${JSON.stringify(this.events.slice(-5))}`))
      }, timeoutMs)
      const listener = (e: AgentEvent) => {
        if (!predicate(e)) return
        clearTimeout(timer)
        this.listeners.delete(listener)
        resolve(e)
      }
      this.listeners.add(listener)
    })
  }

  /** SIGTERM, then SIGKILL after graceMs; also kills a Node-RED left behind. */
  async kill(graceMs = 8000): Promise<void> {
    if (this.child && this.running) {
      this.child.kill('SIGCONT')
      this.child.kill('SIGTERM')
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
      await this.exited
      clearTimeout(timer)
    }
    const pid = this.lastNodeRedPid
    if (pid && alive(pid)) {
      try {
        process.kill(pid, 'SIGCONT')
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
  }
}

export interface AgentSet {
  dir: string
  leaseFile: string
  profileFile: string
  agents: AgentProcess[]
  byName(name: string): AgentProcess
  /** The one replica whose /status says active, waiting for it; throws if two say so. */
  waitForActive(timeoutMs?: number, exclude?: string): Promise<AgentProcess>
  stop(): Promise<void>
}

const DEFAULT_PROFILE = 'name: agent-test\nmode: hot-spare\ntarget: compose\n'

export async function startAgents(options: StartAgentsOptions): Promise<AgentSet> {
  const names = typeof options.replicas === 'number' ? Array.from({length: options.replicas}, (_, i) => String.fromCharCode(97 + i)) : options.replicas
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ff-ha-agents-'))
  mkdirSync(dir, {recursive: true})
  const profileFile = join(dir, 'ff-ha.yaml')
  writeFileSync(profileFile, options.profile ?? DEFAULT_PROFILE)
  const leaseFile = join(dir, 'lease.db')
  const ports = await freePorts(names.length * 2)
  const agents = names.map((name, i) => {
    const userDir = join(dir, name)
    mkdirSync(userDir, {recursive: true})
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flows ?? probeFlows(), null, 2))
    const argv = ['--replica', name, '--profile', profileFile, '--user-dir', userDir, '--node-red-port', String(ports[2 * i]), '--status-port', String(ports[2 * i + 1]), '--status-host', '127.0.0.1', '--lease-file', leaseFile]
    argv.push(...(options.args?.(name) ?? []))
    const command = options.command?.(name)
    if (command) argv.push('--', ...command)
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      FF_HA_ADMIN_TOKEN: TEST_TOKEN,
      FF_HA_CREDENTIAL_SECRET: TEST_CREDENTIAL_SECRET,
      FF_HA_NODE_RED_HOST: '127.0.0.1',
      FF_HA_NODE_RED_LOG_LEVEL: 'warn',
      NO_COLOR: '1',
      ...options.env,
    }
    return new AgentProcess(name, userDir, ports[2 * i], ports[2 * i + 1], argv, env)
  })
  const set: AgentSet = {
    dir,
    leaseFile,
    profileFile,
    agents,
    byName: name => {
      const a = agents.find(x => x.name === name)
      if (!a) throw new Error(`no agent ${name}`)
      return a
    },
    async waitForActive(timeoutMs = 60_000, exclude?: string) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const statuses = await Promise.all(agents.map(a => (a.running ? a.status() : Promise.resolve(null))))
        const active = agents.filter((a, i) => statuses[i]?.role === 'active' && a.name !== exclude)
        if (active.length > 1) throw new Error(`two agents say active: ${active.map(a => a.name).join(', ')}`)
        if (active.length === 1) return active[0]
        await sleep(25)
      }
      throw new Error(`no agent became active within ${timeoutMs} ms; stderr: ${agents.map(a => `${a.name}: ${a.stderr.slice(-300)}`).join(' / ')}`)
    },
    async stop() {
      await Promise.all(agents.map(a => a.kill()))
      if (!options.dir) rmSync(dir, {recursive: true, force: true})
    },
  }
  try {
    for (const a of agents) {
      a.spawn()
      if (options.sequential) await a.waitForStatus(s => s.role === 'spare' || s.role === 'active', 90_000, 'spare or active')
    }
  } catch (err) {
    await set.stop()
    throw err
  }
  return set
}

export async function getFlowsState(url: string, token: string, timeoutMs: number): Promise<FlowsState | null> {
  return (await sampleFlowsState(url, token, timeoutMs)).state
}

/** GET /flows/state; `down` when nothing listens (refused or reset), as opposed to a timeout (a frozen process). */
export async function sampleFlowsState(url: string, token: string, timeoutMs: number): Promise<{state: FlowsState | null; down: boolean}> {
  try {
    const res = await request(new URL('flows/state', url), {
      headers: {authorization: `Bearer ${token}`, 'Node-RED-API-Version': 'v2'},
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
    if (res.statusCode !== 200) {
      await res.body.dump()
      return {state: null, down: false}
    }
    const body = (await res.body.json()) as {state?: FlowsState}
    return {state: body.state ?? null, down: false}
  } catch (err) {
    const code = (err as {code?: string}).code ?? (err as {cause?: {code?: string}}).cause?.code
    return {state: null, down: code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'}
  }
}

export interface FlowsSample {
  replica: string
  /** performance.now() when the request was sent. */
  sent: number
  /** performance.now() when the /flows/state answer arrived. */
  at: number
  state: FlowsState | null
  /** state === 'start', except a boot misreport (see FlowsWatcher). */
  running: boolean
}

/**
 * Samples every replica's Node-RED GET /flows/state every intervalMs, each replica in its own loop (a frozen
 * one must not slow the others). An answer holds from its arrival until the next request to that replica is
 * sent (one interval later), or validMs at most; while that request waits for an answer (a replica that is
 * shutting down, frozen or gone) the state is unknown, not "start". Two replicas that both run flows answer
 * "start" request after request, so an overlap longer than about one interval shows as one.
 *
 * Node-RED misreports while it boots: its flows start() sets the state to "start" and only then, after an
 * await, reads the persisted "stop" and sets it back, without starting a node. So after a replica was
 * down (connection refused), and until it is seen stopped or confirmed running, a "start" counts only if
 * `probePath` (the probe flow's /probe, which exists only while flows run) answers 200. A frozen replica
 * (timeouts) is not "down": its first answer after waking counts as it is. Raw samples are kept too.
 */
export class FlowsWatcher {
  readonly samples: FlowsSample[] = []
  private running = false
  private loops: Promise<void>[] = []

  constructor(
    private readonly targets: {name: string; url: string}[],
    private readonly options: {token?: string; intervalMs?: number; validMs?: number; probePath?: string | null} = {},
  ) {}

  start(): this {
    this.running = true
    this.loops = this.targets.map(t => this.loop(t))
    return this
  }

  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
  }

  private async loop(target: {name: string; url: string}): Promise<void> {
    const token = this.options.token ?? TEST_TOKEN
    const interval = this.options.intervalMs ?? 20
    const probePath = this.options.probePath === undefined ? PROBE : this.options.probePath
    let booting = true
    while (this.running) {
      const sent = performance.now()
      const {state, down} = await sampleFlowsState(target.url, token, 1000)
      const at = performance.now()
      if (down) booting = true
      let running = state === 'start'
      if (running && booting && probePath) running = await probeAnswers(new URL(probePath, target.url).href, 1000)
      if (state === 'stop' || running) booting = false
      this.samples.push({replica: target.name, sent, at, state, running})
      const wait = interval - (performance.now() - sent)
      if (wait > 0) await sleep(wait)
    }
  }

  /** Intervals [from, to] (performance.now ms) during which two or more replicas ran flows. */
  dualActive(since = -Infinity, raw = false): {from: number; to: number; replicas: string[]}[] {
    const validMs = this.options.validMs ?? 100
    const interval = this.options.intervalMs ?? 20
    const byReplica = new Map<string, FlowsSample[]>()
    for (const s of this.samples) if (s.at >= since) byReplica.set(s.replica, [...(byReplica.get(s.replica) ?? []), s])
    const spans: {from: number; to: number; replica: string}[] = []
    for (const [replica, list] of byReplica) {
      list.sort((a, b) => a.at - b.at)
      list.forEach((s, i) => {
        if (!(raw ? s.state === 'start' : s.running)) return
        const next = list[i + 1]?.sent ?? s.at + interval
        spans.push({from: s.at, to: Math.max(s.at, Math.min(next, s.at + validMs)), replica})
      })
    }
    // The overlap sweep is the drill's (src/drill/running.ts); a replica's own spans never overlap (its
    // next request is sent after this answer arrived), so depth >= 2 means two replicas.
    return dualActiveIntervals([...new Set(spans.map(s => s.replica))].map(r => spans.filter(s => s.replica === r)))
      .filter(iv => iv.to > iv.from)
      .map(iv => ({...iv, replicas: [...new Set(spans.filter(s => s.from < iv.to && s.to > iv.from).map(s => s.replica))]}))
  }

  /** Total ms with two or more replicas running flows. */
  dualActiveMs(since = -Infinity, raw = false): number {
    return this.dualActive(since, raw).reduce((sum, i) => sum + (i.to - i.from), 0)
  }

  /** First time after `since` at which `replica` was seen running flows. */
  firstRunning(replica: string, since = -Infinity): number | null {
    const s = this.samples.find(x => x.replica === replica && x.running && x.at >= since)
    return s ? s.at : null
  }
}

async function probeAnswers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(url, {headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}

/** For a failed dual-active assertion: the watcher's samples and the agents' events around `perfMs`. */
export function describeAround(set: AgentSet, watcher: FlowsWatcher, perfMs: number, windowMs = 300): string {
  const at = performance.timeOrigin + perfMs
  const events = set.agents.flatMap(a => a.events).filter(e => Math.abs(Date.parse(e.ts) - at) < windowMs * 3)
  const samples = watcher.samples
    .filter(x => Math.abs(x.at - perfMs) < windowMs)
    .map(x => `${(x.at - perfMs).toFixed(1).padStart(7)} ms ${x.replica} ${x.state}${x.state === 'start' && !x.running ? ' (boot misreport)' : ''}`)
  return [`around ${new Date(at).toISOString()}:`, ...events.map(e => `  ${JSON.stringify(e)}`), ...samples].join('\n')
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
