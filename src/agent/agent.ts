import type {ChildProcess} from 'node:child_process'
import type {Server} from 'node:http'
import {readFileSync} from 'node:fs'
import {isIPv6} from 'node:net'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'
import {AdminClient} from '../admin/client.js'
import {AdminError} from '../admin/errors.js'
import type {FlowsState} from '../admin/types.js'
import {RemoteError, errorMessage} from '../errors.js'
import {AGENT_FD, stopChild} from '../nodered/launch.js'
import {ensureBootsStopped} from '../nodered/userdir.js'
import {systemClock, toEpoch, type Clock} from './clock.js'
import {prepareSettings, type AgentConfig} from './config.js'
import {DeployWindow, type DeploySignal} from './deploy-window.js'
import {LeaseElector} from './lease/elector.js'
import {openLeaseStore} from './lease/open.js'
import type {LeaseStore} from './lease/store.js'
import {jsonLog, type AgentLog} from './log.js'
import {AgentMetrics} from './metrics.js'
import {NodeRedLauncher} from './node-red-child.js'
import {RestartPolicy, describeExit} from './restart-policy.js'
import {startStatusServer} from './status-server.js'
import type {AgentStatus, Health, Role} from './status.js'
import {Witness} from './witness.js'

export interface AgentHandle {
  readonly statusUrl: string
  status(): AgentStatus
  /** Graceful stop (what SIGTERM does): stop flows, release the lease, stop Node-RED. */
  stop(reason?: string): Promise<void>
  /** Resolves when the agent has stopped. */
  readonly done: Promise<{reason: string}>
}

export interface AgentDeps {
  clock?: Clock
  log?: AgentLog
  /** A lease store to use instead of the profile's (tests). */
  store?: LeaseStore
}

/** Reject after ms with a timer of our own: undici's per-request timeouts are coarse (seen ~1 s for 200 ms). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AdminError('node-red', 'timeout', `${what}: no answer within ${ms} ms`)), ms)
  })
  promise.catch(() => undefined)
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** What to do when the status server cannot listen: the port is at fault only when the port is taken. */
export function listenHint(code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'another process listens on that port: choose a free --status-port'
    case 'EACCES':
      return 'ports below 1024 need privileges: choose a --status-port of 1024 or more'
    case 'EADDRNOTAVAIL':
      return 'no interface of this host has that address: use 127.0.0.1 (this host), 0.0.0.0 (every interface) or one of its addresses for --status-host'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return '--status-host does not resolve: give an IP address, e.g. 127.0.0.1 or 0.0.0.0'
    default:
      return 'check --status-host and --status-port'
  }
}

/** Start an agent in this process. The CLI command wires signals to handle.stop(). */
export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<AgentHandle> {
  const agent = new Agent(config, deps)
  await agent.start()
  return agent
}

const WATCHDOG_MS = 20
const PAUSE_GAP_MS = 250
const POLL_LOADED_MS = 25
const REV_REFRESH_MS = 5000
const CANDIDATE_POLL_MS = 50
/** How long a "start" right after boot may be Node-RED's misreport rather than flows running. */
const BOOT_MISREPORT_MS = 1000
/** After the boot timeout, how often to look again whether Node-RED still uses CPU (it is loading). */
const BOOT_PROGRESS_MS = 5000
const BOOT_HARD_CAP = 10
/** How long POST /flows/state start may take: thousands of function nodes take seconds to start. */
const START_TIMEOUT_MS = 60_000

// The supervisor. Rules that keep it safe, in order of importance:
// - Flows start only after a lease write succeeded, and only while the renew deadline has not passed.
// - On any doubt (lease lost, renew deadline missed, a pause, the witness gone) flows are stopped BEFORE
//   the lease is released; if Node-RED does not confirm the stop within stopBoundMs, it is killed.
// - A dead Node-RED runs no flows, so its lease is released at once for a fast takeover.
class Agent implements AgentHandle {
  readonly statusUrl: string
  readonly done: Promise<{reason: string}>
  private resolveDone!: (v: {reason: string}) => void
  private readonly clock: Clock
  private readonly log: AgentLog
  private readonly counters = new AgentMetrics()
  private readonly hotSpare: boolean
  private readonly launcher: NodeRedLauncher
  private readonly restartPolicy: RestartPolicy
  private readonly control: AdminClient
  private readonly healthClient: AdminClient
  private readonly stopClient: AdminClient
  private readonly startClient: AdminClient
  private store: LeaseStore | null = null
  private elector: LeaseElector | null = null
  private witness: Witness | null = null
  private server: Server | null = null

  private role: Role = 'starting'
  private since: number
  private child: ChildProcess | null = null
  private childGen = 0
  private childStartedAt = 0
  private ready = false
  private flowsState: FlowsState | null = null
  /** Bumped at every start/stop we confirm, so that an older health answer does not overwrite it. */
  private stateSeq = 0
  private rev: string | null = null
  private restarts = 0
  private healthFailuresInRow = 0
  private readonly deploys = new DeployWindow()
  private unleasedStartSince: number | null = null
  private lastRevAt = 0
  private startRequest: Promise<unknown> | null = null
  private fencing: Promise<void> | null = null
  private stopping: Promise<void> | null = null
  private lastWatch = 0
  private lastPauseAt = -Infinity
  private lastStoreError = ''
  private timers = new Set<NodeJS.Timeout>()
  private watchdog: NodeJS.Timeout | null = null

  constructor(private readonly config: AgentConfig, deps: AgentDeps) {
    this.clock = deps.clock ?? systemClock
    this.log = deps.log ?? jsonLog(config.replica)
    this.store = deps.store ?? null
    this.since = this.clock.wall()
    this.hotSpare = config.mode === 'hot-spare'
    this.launcher = new NodeRedLauncher(config)
    this.restartPolicy = new RestartPolicy(config.restartPolicy)
    const target = {name: config.replica, url: `http://127.0.0.1:${config.nodeRedPort}${config.profile.nodeRed.adminRoot}`}
    const auth = {token: config.adminToken}
    this.control = new AdminClient(target, {auth, retries: 0, requestTimeoutMs: 2000, connectTimeoutMs: 1000})
    this.healthClient = new AdminClient(target, {auth, retries: 0, requestTimeoutMs: config.timings.healthTimeoutMs, connectTimeoutMs: config.timings.healthTimeoutMs})
    this.stopClient = new AdminClient(target, {auth, retries: 0, requestTimeoutMs: config.stopBoundMs, connectTimeoutMs: config.stopBoundMs})
    this.startClient = new AdminClient(target, {auth, retries: 0, requestTimeoutMs: START_TIMEOUT_MS, connectTimeoutMs: 1000})
    const host = config.statusHost === '0.0.0.0' ? '127.0.0.1' : config.statusHost === '::' ? '[::1]' : isIPv6(config.statusHost) ? `[${config.statusHost}]` : config.statusHost
    this.statusUrl = `http://${host}:${config.statusPort}/`
    this.done = new Promise(resolve => (this.resolveDone = resolve))
  }

  async start(): Promise<void> {
    const c = this.config
    const {rendered} = prepareSettings(c)
    if (this.hotSpare) {
      this.store ??= await openLeaseStore(c)
      this.elector = new LeaseElector(this.store, c.replica, c.timings, this.clock, {
        onAcquired: (token, previousHolder) => this.onAcquired(token, previousHolder),
        onLost: reason => void this.fence(reason === 'lost' ? 'lease-lost' : this.clock.now() - this.lastPauseAt < 1000 ? 'pause' : 'renew-deadline'),
        onStoreError: err => this.onStoreError(err),
      })
      if (c.witness) this.witness = new Witness(c.witness, this.clock, c.timings.renewDeadlineMs, c.timings.retryPeriodMs)
    }
    try {
      this.server = await startStatusServer(this, {host: c.statusHost, port: c.statusPort, token: c.statusToken})
    } catch (err) {
      await this.store?.close()
      const code = (err as {code?: string}).code
      throw new RemoteError(`${c.replica}: cannot serve the status endpoints on ${c.statusHost}:${c.statusPort} (${code ?? errorMessage(err)})`, {
        replica: c.replica,
        hint: listenHint(code),
      })
    }
    this.log('start', {
      mode: c.mode,
      profile: c.profileSource,
      lease: this.store?.describe ?? null,
      witness: c.witness ?? null,
      userDir: c.userDir,
      nodeRedPort: c.nodeRedPort,
      statusHost: c.statusHost,
      statusPort: c.statusPort,
      statusToken: c.statusToken ? 'set' : 'none',
      settings: c.settingsFile,
      settingsRendered: rendered,
      command: c.command.length ? c.command : null,
      timings: c.timings,
      stopBoundMs: c.stopBoundMs,
    })
    this.witness?.start()
    this.lastWatch = this.clock.now()
    this.watchdog = setInterval(() => this.watch(), WATCHDOG_MS)
    this.spawnChild()
    if (this.hotSpare) this.leaseLoop()
    this.healthLoop()
  }

  // ---- the status surface ----

  status(): AgentStatus {
    const view = this.elector?.view()
    return {
      replica: this.config.replica,
      mode: this.config.mode,
      role: this.role,
      leaseHolder: view?.holder ?? null,
      fencingToken: view?.token ?? null,
      leaseExpiresAt: view?.expiresAtMono != null ? toEpoch(this.clock, view.expiresAtMono) : null,
      nodeRedPid: this.child?.pid ?? null,
      flowsState: this.flowsState,
      rev: this.rev,
      restarts: this.restarts,
      since: this.since,
    }
  }

  health(): Health {
    if (this.stopping) return {ok: false, reason: 'stopping'}
    if (this.restartPolicy.crashLooping) return {ok: false, reason: `crash loop: ${this.crashReason}`}
    if (!this.child) return {ok: false, reason: 'Node-RED is not running (restarting)'}
    if (!this.ready) return {ok: false, reason: 'Node-RED is starting (flows not loaded yet)'}
    if (this.healthFailuresInRow > 0) {
      const busy = this.deploys.underWay(this.clock.now())
      if (busy) return {ok: false, reason: `Node-RED is busy with a deploy (${mb(busy.bytes)}, for ${busy.sinceMs} ms; a hang only after ${busy.graceMs} ms)`}
      return {ok: false, reason: `Node-RED failed ${this.healthFailuresInRow} health check(s) in a row`}
    }
    return {ok: true}
  }

  active(): boolean {
    if (this.role !== 'active' || this.flowsState !== 'start' || !this.ready) return false
    return this.hotSpare ? this.elector!.leading : true
  }

  metrics(): string {
    const e = this.elector
    if (e) {
      this.counters.leaseAcquisitions = e.acquisitions
      this.counters.leaseLosses = e.losses
    }
    return this.counters.render(this.config.replica, this.role, e?.view().token ?? null)
  }

  // ---- roles ----

  private setRole(role: Role, fields: Record<string, unknown> = {}): void {
    if (role === this.role) return
    const from = this.role
    this.role = role
    this.since = this.clock.wall()
    this.log('role', {role, from, fencingToken: this.elector?.token ?? this.elector?.view().token ?? null, ...fields})
  }

  // ---- Node-RED, the child ----

  private crashReason = ''

  private spawnChild(): void {
    if (this.stopping) return
    const gen = ++this.childGen
    this.ready = false
    this.flowsState = null
    this.rev = null
    this.healthFailuresInRow = 0
    this.deploys.reset()
    if (!this.fencing) this.setRole('starting')
    let child: ChildProcess
    try {
      child = this.launcher.spawn()
    } catch (err) {
      this.onChildGone(gen, null, null, errorMessage(err))
      return
    }
    this.child = child
    this.childStartedAt = this.clock.now()
    let gone = false
    const onGone = (code: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (gone) return
      gone = true
      this.onChildGone(gen, code, signal, error)
    }
    child.once('error', err => onGone(null, null, err.message))
    child.once('exit', (code, signal) => onGone(code, signal))
    const channel = child.stdio?.[AGENT_FD] as Readable | null | undefined
    if (channel) {
      channel.on('error', () => undefined)
      createInterface({input: channel}).on('line', line => this.onNodeRedSignal(gen, line))
    }
    this.log('node-red-spawn', {pid: child.pid ?? null, command: this.config.command.length ? this.config.command[0] : 'node-red'})
    void this.waitLoaded(gen, child)
  }

  /** HTTP answering is not flows loaded: wait until v2 GET /flows returns a rev. */
  private async waitLoaded(gen: number, child: ChildProcess): Promise<void> {
    const t0 = this.clock.now()
    let deadline = t0 + this.config.bootTimeoutMs
    this.cpuAdvanced(child) // the baseline
    while (gen === this.childGen && !this.stopping && child.exitCode === null && child.signalCode === null) {
      if (this.clock.now() > deadline) {
        // Loading a large flows file takes longer than any fixed bound (107,000 nodes: over a minute here):
        // while Node-RED's CPU time grows it is loading, not hung; up to BOOT_HARD_CAP boot timeouts.
        if (this.cpuAdvanced(child) && this.clock.now() - t0 < BOOT_HARD_CAP * this.config.bootTimeoutMs) {
          deadline = this.clock.now() + BOOT_PROGRESS_MS
          continue
        }
        this.log('health', {ok: false, action: 'kill', reason: `Node-RED did not load its flows within ${Math.round(this.clock.now() - t0)} ms`})
        child.kill('SIGKILL')
        return
      }
      try {
        // The long-timeout client: GET /flows serialises every node, seconds for a large file.
        const {rev} = await this.startClient.getFlows()
        if (gen !== this.childGen) return
        this.rev = rev
        this.lastRevAt = this.clock.now()
        return this.onChildReady(gen, child)
      } catch {
        await this.sleep(POLL_LOADED_MS)
      }
    }
  }

  private async onChildReady(gen: number, child: ChildProcess): Promise<void> {
    let state: FlowsState | null = null
    try {
      state = await this.control.getFlowsState()
    } catch {
      // the health loop will tell
    }
    if (gen !== this.childGen || this.stopping || this.child !== child) return
    // The parent-watch preload was required at Node-RED's start: remove it now, so that nothing is left in
    // the temp dir if this agent is killed (the next spawn writes it again).
    this.launcher.cleanup()
    this.ready = true
    this.flowsState = state
    this.log('node-red-ready', {pid: child.pid ?? null, rev: this.rev, flowsState: state, bootMs: Math.round(this.clock.now() - this.childStartedAt)})
    this.later(() => {
      if (gen === this.childGen && this.ready) this.restartPolicy.stable()
    }, this.config.restartPolicy.stableMs)
    if (!this.hotSpare) return void this.startFlows(null)
    if (state === 'start' && !this.elector!.leading) {
      // Right after boot Node-RED may report "start" for a moment before it reads the persisted "stop" (its
      // flows start() sets the state first and checks it after an await). Look again before acting.
      const deadline = this.clock.now() + BOOT_MISREPORT_MS
      while (state === 'start' && this.clock.now() < deadline && gen === this.childGen) {
        await this.sleep(50)
        state = await this.control.getFlowsState().catch(() => state)
      }
      if (gen !== this.childGen || this.stopping || this.child !== child) return
      this.flowsState = state
      if (state === 'start' && !this.elector!.leading) {
        // It booted started: the persisted state was lost or someone changed it. Never run flows unleased.
        this.log('unexpected-start', {reason: 'Node-RED booted with flows started'})
        await this.fence('not-leader')
      }
    }
    if (!this.fencing && !this.elector!.leading && this.child === child && this.ready) this.setRole('spare')
  }

  private onChildGone(gen: number, code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (gen !== this.childGen) return
    const ranMs = Math.round(this.clock.now() - this.childStartedAt)
    const pid = this.child?.pid ?? null
    this.child = null
    this.ready = false
    this.flowsState = null
    this.stateSeq++
    const reason = error ? `could not be started (${error})` : describeExit(code, signal)
    this.log('node-red-exit', {pid, code, signal, reason: `Node-RED ${reason}`, ranMs})
    this.bootStopped()
    if (this.stopping) return
    if (this.hotSpare && this.elector) {
      // Dead: no flows run, so give the lease up now instead of letting it expire.
      const wasHolder = this.elector.view().holder === this.config.replica
      this.elector.resignNow()
      if (wasHolder) void this.releaseLease('node-red-exit')
    }
    if (!this.fencing) this.setRole('starting', {reason: `Node-RED ${reason}`})
    const decision = this.restartPolicy.failed(ranMs)
    this.crashReason = `Node-RED ${reason} ${decision.consecutive} times in a row${ranMs < 60_000 ? `, the last after ${ranMs} ms` : ''}; last log: ${this.launcher.logTail() || '(empty)'}`
    if (decision.newlyCrashLooping) {
      this.log('crash-loop', {consecutive: decision.consecutive, reason: this.crashReason, nextRestartMs: decision.delayMs, log: `${this.config.userDir}/node-red.log`})
    }
    this.restarts++
    this.counters.restarts++
    this.log('restart', {attempt: this.restarts, consecutive: decision.consecutive, delayMs: decision.delayMs})
    this.later(() => this.spawnChild(), decision.delayMs)
  }

  /** A line from the preload in Node-RED: a deploy began or ended (see deploy-window.ts). */
  private onNodeRedSignal(gen: number, line: string): void {
    if (gen !== this.childGen) return
    let signal: DeploySignal
    try {
      signal = JSON.parse(line) as DeploySignal
    } catch {
      return
    }
    if (!signal || !['hello', 'start', 'answered', 'done'].includes(signal.deploy)) return
    const wasDeploying = this.deploys.underWay(this.clock.now())?.write ?? false
    this.deploys.signal(signal, this.clock.now())
    if (signal.deploy === 'start' && signal.write && !wasDeploying) this.log('deploy', {action: 'start', bytes: signal.bytes})
  }

  // ---- health ----

  /** Checks on a fixed cadence (a slow check does not stretch the period), one at a time. */
  private healthLoop(): void {
    const interval = this.config.timings.healthIntervalMs
    const loop = async () => {
      if (this.stopping) return
      const t0 = this.clock.now()
      await this.checkHealth()
      if (!this.stopping) this.later(loop, Math.max(0, interval - (this.clock.now() - t0)))
    }
    this.later(loop, interval)
  }

  private async checkHealth(): Promise<void> {
    const child = this.child
    if (!child || !this.ready) return
    // Starting or stopping many nodes blocks Node-RED's event loop for a while: that is not a hang. The
    // start has its own bound (START_TIMEOUT_MS); a stop has stopBoundMs.
    if (this.startRequest || this.fencing) return
    const gen = this.childGen
    const seq = this.stateSeq
    const t0 = this.clock.now()
    try {
      const state = await withTimeout(this.healthClient.getFlowsState(), this.config.timings.healthTimeoutMs, 'GET /flows/state')
      if (gen !== this.childGen) return
      this.counters.observeHealthCheck((this.clock.now() - t0) / 1000)
      const window = this.deploys.underWay(this.clock.now())
      const deployEnded = this.deploys.healthy(t0) === 'closed' && window?.write === true
      if (deployEnded) this.log('deploy', {action: 'done', ms: window!.sinceMs, failedChecks: this.healthFailuresInRow})
      else if (this.healthFailuresInRow > 0) this.log('health', {ok: true, after: this.healthFailuresInRow})
      this.healthFailuresInRow = 0
      if (seq === this.stateSeq) this.flowsState = state
      const unleased = this.hotSpare && state === 'start' && !this.elector!.leading && !this.startRequest && !this.fencing && !this.stopping && seq === this.stateSeq
      if (!unleased) this.unleasedStartSince = null
      else if (this.unleasedStartSince === null) this.unleasedStartSince = this.clock.now()
      else if (this.clock.now() - this.unleasedStartSince >= BOOT_MISREPORT_MS / 2) {
        // Seen twice, apart: not the boot-time misreport. Someone started flows here without the lease.
        this.unleasedStartSince = null
        this.log('unexpected-start', {reason: 'flows are running on a replica that does not hold the lease'})
        void this.fence('not-leader')
      }
      // GET /flows serialises every node (seconds for large flows): with the deploy channel, read the rev
      // again only after a deploy; without it (a custom command), every REV_REFRESH_MS.
      if (deployEnded || (!this.deploys.heard && this.clock.now() - this.lastRevAt > REV_REFRESH_MS)) void this.refreshRev(gen)
    } catch (err) {
      if (gen !== this.childGen || this.child !== child || this.stopping) return
      this.healthFailuresInRow++
      this.counters.healthFailures++
      const threshold = this.config.timings.healthFailureThreshold
      // A deploy under way blocks Node-RED for as long as its flows take to parse, save and start: busy, not hung.
      if (this.cpuAdvanced(child)) this.deploys.alive(this.clock.now())
      const busy = this.deploys.underWay(this.clock.now())
      const hung = this.healthFailuresInRow >= threshold && !busy
      if (busy && this.healthFailuresInRow !== 1 && this.healthFailuresInRow % 20 !== 0) return
      this.log('health', {
        ok: false,
        consecutive: this.healthFailuresInRow,
        threshold,
        latencyMs: Math.round(this.clock.now() - t0),
        error: err instanceof AdminError ? err.kind : errorMessage(err),
        ...(busy ? {busy: `deploy of ${mb(busy.bytes)} under way for ${busy.sinceMs} ms (a hang only after ${busy.graceMs} ms)`} : {}),
        ...(hung ? {action: 'kill', reason: `Node-RED failed ${threshold} health checks in a row (hang)`} : {}),
      })
      // A hung Node-RED cannot be asked to stop its flows: kill it. Its exit releases the lease.
      if (hung) child.kill('SIGKILL')
    }
  }

  private lastCpu: {pid: number; ticks: number} | null = null

  /** Whether the child used CPU since the last call (Linux /proc; elsewhere: never, so only signals count). */
  private cpuAdvanced(child: ChildProcess): boolean {
    if (!child.pid) return false
    let ticks: number
    try {
      // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks = Number(fields[11]) + Number(fields[12])
    } catch {
      return false
    }
    const advanced = this.lastCpu?.pid === child.pid && ticks > this.lastCpu.ticks
    this.lastCpu = {pid: child.pid, ticks}
    return advanced
  }

  private async refreshRev(gen: number): Promise<void> {
    this.lastRevAt = this.clock.now()
    try {
      const {rev} = await this.startClient.getFlows()
      if (gen === this.childGen) this.rev = rev
    } catch {
      // health checks judge liveness, not this
    }
  }

  // ---- the lease ----

  // The holder renews every retryPeriod. A candidate on sqlite reads every CANDIDATE_POLL_MS as well: a
  // read is a ~20 us local SELECT, and it sees a released lease sooner. On Kubernetes every read is an
  // API-server request, so candidates keep to retryPeriod.
  private leaseLoop(): void {
    const retry = this.config.timings.retryPeriodMs
    const candidatePoll = this.config.lease.backend === 'sqlite' ? Math.min(CANDIDATE_POLL_MS, retry) : retry
    const loop = async () => {
      if (this.stopping) return
      const t0 = this.clock.now()
      await this.elector!.tick(() => this.wantLease())
      const period = this.elector!.leading ? retry : candidatePoll
      if (!this.stopping) this.later(loop, Math.max(0, period - (this.clock.now() - t0)))
    }
    void loop()
  }

  /** Whether to acquire or renew now. While leading, only a stop or a fence gives it up (never a renew skipped by accident). */
  private wantLease(): boolean {
    if (this.stopping || this.fencing || !this.child || !this.ready) return false
    if (this.elector!.leading) return true
    if (this.witness && !this.witness.reachable()) return false
    return !this.restartPolicy.crashLooping && this.healthFailuresInRow === 0 && this.flowsState === 'stop'
  }

  private onAcquired(token: number, previousHolder: string | null): void {
    this.log('lease', {action: 'acquired', fencingToken: token, previousHolder})
    if (previousHolder) this.counters.failovers++
    void this.startFlows(token)
  }

  private onStoreError(err: unknown): void {
    const message = errorMessage(err)
    if (message !== this.lastStoreError) this.log('lease', {action: 'error', error: message, store: this.store?.describe})
    this.lastStoreError = message
  }

  private async releaseLease(reason: string): Promise<void> {
    const released = await this.elector!.release()
    if (released) {
      this.counters.leaseReleases++
      this.log('lease', {action: 'released', reason})
    }
  }

  // ---- flows ----

  /** Start flows for tenure `token` (null: load-balanced, no lease), retrying the early-boot 500. */
  private async startFlows(token: number | null): Promise<void> {
    const t0 = this.clock.now()
    const mayStart = () => !this.stopping && !this.fencing && !!this.child && (token === null || (this.elector!.leading && this.elector!.token === token))
    let attempts = 0
    while (mayStart()) {
      attempts++
      try {
        const request = this.startClient.setFlowsState('start')
        this.startRequest = request
        const state = await request
        this.startRequest = null
        if (state === 'start') {
          this.stateSeq++
          this.flowsState = 'start'
          if (!mayStart()) {
            // We lost the lease while the start was in flight: stop again at once.
            if (token !== null) await this.fence('lost-while-starting')
            return
          }
          this.setRole('active', {startMs: Math.round(this.clock.now() - t0), attempts})
          return
        }
      } catch (err) {
        this.startRequest = null
        if (err instanceof AdminError && err.kind === 'timeout' && this.child) {
          // Hung while starting its flows: it cannot be trusted to stop them either.
          this.log('health', {ok: false, action: 'kill', reason: `Node-RED did not confirm the start within ${START_TIMEOUT_MS} ms (hang)`})
          this.child.kill('SIGKILL')
          return
        }
        if (attempts === 1 || attempts % 20 === 0) {
          this.log('flows', {action: 'start-retry', attempts, error: err instanceof AdminError ? `${err.kind}${err.status ? ' ' + err.status : ''}` : errorMessage(err)})
        }
      }
      await this.sleep(POLL_LOADED_MS)
    }
  }

  /**
   * Stop flows because the lease can no longer be trusted. First stop leading (synchronously), then stop
   * the flows, and only then release the lease. How to stop depends on whether another replica may already
   * hold the lease: if it may (the lease was taken, or the lease expires, as others judge it, before an API
   * stop could be confirmed: a pause), every millisecond is dual-active, so Node-RED is killed at once;
   * otherwise nobody can take over yet, and the API gets stopBoundMs to confirm the stop before the kill.
   */
  private fence(reason: string): Promise<void> {
    if (this.fencing) return this.fencing
    const lastRenew = this.elector?.lastRenewSentAt ?? null
    this.elector?.resignNow(true)
    this.counters.fences++
    const sinceRenew = lastRenew === null ? Infinity : this.clock.now() - lastRenew
    // (not-leader: we never held it in this tenure; Node-RED is awake and answering, so the API stop is quick.)
    // A stop through the API may take stopBoundMs: if the lease could expire before that, do not wait for it.
    const mayBeTaken =
      this.hotSpare &&
      reason !== 'not-leader' &&
      (reason === 'lease-lost' || reason === 'lost-while-starting' || sinceRenew + this.config.stopBoundMs >= this.config.timings.leaseDurationMs)
    const flowsMayRun = this.flowsState !== 'stop' || this.startRequest !== null
    this.setRole('fenced', {reason, sinceRenewMs: Number.isFinite(sinceRenew) ? Math.round(sinceRenew) : null})
    const child = this.child
    if (mayBeTaken && flowsMayRun && child) {
      this.log('flows', {action: 'kill', reason: `another replica may already hold the lease (${reason}, last renew ${Math.round(sinceRenew)} ms ago)`})
      child.kill('SIGKILL')
    }
    this.fencing = (async () => {
      if (mayBeTaken && flowsMayRun && child) {
        await killAndWait(child)
      } else {
        if (this.startRequest) await Promise.race([this.startRequest.catch(() => undefined), this.sleep(this.config.stopBoundMs)])
        const stopped = await this.stopFlows(reason)
        if (this.hotSpare && stopped) await this.releaseLease(reason)
      }
      this.fencing = null
      if (this.stopping) return
      if (this.child && this.ready) this.setRole('spare')
      else this.setRole('starting')
    })()
    return this.fencing
  }

  /** POST /flows/state stop within stopBoundMs, or kill Node-RED. True if stopped by the API. */
  private async stopFlows(reason: string): Promise<boolean> {
    const child = this.child
    if (!child) return true
    const t0 = this.clock.now()
    try {
      const state = await withTimeout(this.stopClient.setFlowsState('stop'), this.config.stopBoundMs, 'POST /flows/state stop')
      if (state === 'stop') {
        this.stateSeq++
        this.flowsState = 'stop'
        this.log('flows', {action: 'stopped', reason, ms: Math.round(this.clock.now() - t0)})
        return true
      }
    } catch (err) {
      this.log('flows', {action: 'stop-failed', reason, error: err instanceof AdminError ? err.kind : errorMessage(err)})
    }
    this.log('flows', {action: 'kill', reason: `Node-RED did not confirm the stop within ${this.config.stopBoundMs} ms`})
    await killAndWait(child)
    return false
  }

  // ---- the watchdog: pauses, the renew deadline, the witness ----

  private watch(): void {
    const now = this.clock.now()
    const gap = now - this.lastWatch
    this.lastWatch = now
    if (gap > PAUSE_GAP_MS) {
      this.lastPauseAt = now
      this.log('pause', {gapMs: Math.round(gap), leading: this.elector?.view().deadlineMono != null})
    }
    if (!this.elector || this.stopping) return
    this.elector.checkDeadline()
    if (this.witness && this.elector.leading && !this.witness.reachable(now)) {
      this.log('witness', {ok: false, witness: this.witness.address, reason: `not reached for ${this.config.timings.renewDeadlineMs} ms`})
      void this.fence('witness-unreachable')
    }
  }

  // ---- shutdown ----

  stop(reason = 'stopped'): Promise<void> {
    if (this.stopping) return this.stopping
    this.stopping = this.shutdown(reason)
    return this.stopping
  }

  private async shutdown(reason: string): Promise<void> {
    this.setRole('stopping', {reason})
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    if (this.watchdog) clearInterval(this.watchdog)
    this.witness?.stop()
    if (this.fencing) await this.fencing
    if (this.hotSpare && this.elector) {
      const holder = this.elector.view().holder === this.config.replica
      this.elector.resignNow()
      if (this.startRequest) await Promise.race([this.startRequest.catch(() => undefined), this.sleep(this.config.stopBoundMs)])
      // Stop flows first, then release: the spare may start as soon as the record is free.
      if (this.child && (holder || this.flowsState !== 'stop')) await this.stopFlows('shutdown')
      if (holder) await this.releaseLease('shutdown')
    }
    if (!this.hotSpare && this.config.drainMs > 0 && this.child && this.ready) {
      // /healthz already answers 503 (role stopping): keep serving until the proxy has taken us out.
      this.log('draining', {ms: this.config.drainMs})
      await this.sleep(this.config.drainMs)
    }
    const child = this.child
    if (child) await stopChild(child, 10_000)
    this.child = null
    // Node-RED does not await its write of the stop state: a SIGTERM right after the stop can lose it. Make
    // sure the userDir boots stopped whoever starts it next.
    this.bootStopped()
    await Promise.allSettled([this.control.close(), this.healthClient.close(), this.stopClient.close(), this.startClient.close()])
    await this.store?.close()
    this.launcher.cleanup()
    if (this.server) {
      this.server.closeAllConnections()
      await new Promise(resolve => this.server!.close(resolve))
    }
    this.log('stopped', {reason})
    this.resolveDone({reason})
  }

  private bootStopped(): void {
    try {
      ensureBootsStopped(this.config.userDir)
    } catch (err) {
      this.log('error', {error: `cannot write ${this.config.userDir}/.config.runtime.json: ${errorMessage(err)}`})
    }
  }

  // ---- timers ----

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
  }

  // A plain timer, not tracked: shutdown must never wait on a sleep whose timer it cleared.
  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms))
  }
}
