import type {ChildProcess} from 'node:child_process'
import type {Server} from 'node:http'
import {readFileSync} from 'node:fs'
import {isIPv6} from 'node:net'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'
import {AdminClient} from '../admin/client.js'
import {AdminError} from '../admin/errors.js'
import {RemoteError, errorMessage} from '../errors.js'
import {AGENT_FD, stopChild} from '../nodered/launch.js'
import {modeOf} from '../modes/index.js'
import {ensureBootsStopped} from '../nodered/userdir.js'
import {systemClock, toEpoch, type Clock, type Timer} from './clock.js'
import {prepareSettings, type AgentConfig} from './config.js'
import {contextFenceFor, type ContextFence} from './context-fence.js'
import type {DeploySignal} from './deploy-window.js'
import {openFlowsSync, type FlowsSync} from './flows-sync.js'
import {LeaseElector} from './lease/elector.js'
import {leaseBackend} from './lease/backends/index.js'
import {openLeaseStore} from './lease/open.js'
import type {LeaseStore} from './lease/store.js'
import type {ReplicaLiveness} from './lease/liveness.js'
import {jsonLog, type AgentLog} from './log.js'
import {AgentMetrics, type MetricsScrape} from './metrics.js'
import {NodeRedLauncher} from './node-red-child.js'
import {startStatusServer} from './status-server.js'
import type {HandoverAnswer, HandoverRequest} from './handover.js'
import {createSingletons} from './singleton-setup.js'
import {newSingletonToken, singletonNodeEnv, singletonRoute} from './singleton-route.js'
import type {SingletonSource} from './singletons.js'
import type {AgentStatus, Health} from './status.js'
import {
  START_TIMEOUT_MS,
  healthOf,
  initialState,
  isActive,
  step,
  wantsLease,
  type Command,
  type LeaseFacts,
  type RequestFailure,
  type Stamp,
  type SupervisorEvent,
  type SupervisorState,
} from './supervisor/machine.js'
import {Witness, probeTcp} from './witness.js'

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
const TERMINATE_GRACE_MS = 10_000
/** After a failed raise of the shared context's fence, wait this long before the start is retried. */
const FENCE_RETRY_MS = 500

/** Node-RED's CPU time so far in clock ticks (Linux /proc; elsewhere null: only deploy signals count). */
function cpuTicks(pid: number | undefined): number | null {
  if (!pid) return null
  try {
    // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return null
  }
}

function failure(err: unknown): RequestFailure {
  if (err instanceof AdminError) return {kind: err.kind, status: err.status ?? null, message: err.message}
  return {kind: null, status: null, message: errorMessage(err)}
}

const DEPLOY_SIGNALS = new Set(['hello', 'start', 'answered', 'done'])

// The shell around supervisor/machine.ts: it owns every resource (the child process, the admin clients,
// the lease elector, the witness prober, the status server, timers on the Clock), stamps each event with
// the clock and the elector's view, steps the machine, and performs the commands it returns. It decides
// nothing: every rule (role changes, fencing, backoff, hang detection, drain) is in the machine.
class Agent implements AgentHandle {
  readonly statusUrl: string
  readonly done: Promise<{reason: string}>
  private resolveDone!: (v: {reason: string}) => void
  private readonly clock: Clock
  private readonly log: AgentLog
  private readonly counters: AgentMetrics
  private readonly launcher: NodeRedLauncher
  private readonly control: AdminClient
  private readonly healthClient: AdminClient
  private readonly stopClient: AdminClient
  private readonly startClient: AdminClient
  private store: LeaseStore | null = null
  private elector: LeaseElector | null = null
  private liveness: ReplicaLiveness | null = null
  private witness: Witness | null = null
  private server: Server | null = null
  private flowsSync: FlowsSync | null = null
  private readonly nodeRedEnv: Record<string, string>

  private state: SupervisorState
  private readonly queue: SupervisorEvent[] = []
  private stepping = false
  private child: ChildProcess | null = null
  private childGen = 0
  private readonly timers = new Set<Timer>()
  private watchdog: Timer | null = null
  private stopping: Promise<void> | null = null
  /** Monotonic ms at which the lease store stopped answering; null while it answers. */
  private storeLostAt: number | null = null
  /** POST /handover requests waiting for the machine's handover-settled, by id. */
  private readonly handovers = new Map<number, (settled: {ok: boolean; reason: string}) => void>()
  private handoverSeq = 0
  /** The ff-ha singleton node's leases, and the token its requests carry (singletons.ts). */
  private readonly singletons: SingletonSource
  private readonly singletonToken = newSingletonToken()
  private readonly contextFence: ContextFence | null
  private lastFenceError = ''

  constructor(private readonly config: AgentConfig, deps: AgentDeps) {
    this.clock = deps.clock ?? systemClock
    this.counters = new AgentMetrics(config.replica)
    this.log = deps.log ?? jsonLog(config.replica)
    this.store = deps.store ?? null
    this.singletons = createSingletons(config, this.clock, this.log, () => this.elector)
    // Node-RED's environment: openFlowsSync adds the flows record's URL in start(), before the first spawn.
    this.nodeRedEnv = {...config.env, ...singletonNodeEnv(config.statusHost, config.statusPort, this.singletonToken)}
    this.launcher = new NodeRedLauncher({...config, env: this.nodeRedEnv})
    const leased = modeOf(config.mode).singleActive
    this.contextFence = leased ? contextFenceFor(config.profile, config.userDir, config.env) : null
    this.state = initialState(
      {
        replica: config.replica,
        leased,
        timings: config.timings,
        stopBoundMs: config.stopBoundMs,
        bootTimeoutMs: config.bootTimeoutMs,
        drainMs: config.drainMs,
        restartPolicy: config.restartPolicy,
        witness: leased ? (config.witness ?? null) : null,
        userDir: config.userDir,
      },
      this.clock.now(),
      this.clock.wall(),
    )
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
    // A token left by an earlier run (a crash) would let this replica write as if it held the lease.
    this.contextFence?.clear()
    if (this.state.config.leased) {
      // A store given by a test stands alone: no liveness file beside a lease file it does not use.
      if (!this.store) {
        this.store = await openLeaseStore(c)
        await this.openLiveness()
      }
      this.elector = new LeaseElector(this.store, c.replica, c.timings, this.clock, {
        onAcquired: (token, previousHolder) => this.dispatch({kind: 'lease-acquired', token, previousHolder}),
        onLost: reason => this.dispatch({kind: 'lease-lost', reason}),
        onStoreError: err => this.onStoreError(err),
        onHolderGone: holder => this.log('lease', {action: 'holder-gone', holder}),
      }, this.liveness)
      if (c.witness) {
        this.witness = new Witness(c.witness, this.clock, c.timings.renewDeadlineMs, c.timings.retryPeriodMs, probeTcp, (ok, startedAt) =>
          this.dispatch({kind: 'witness-probed', ok, startedAt}),
        )
      }
    }
    // The shared flows record (docs/design/editor-deploy.md): before Node-RED starts, which gets its URL.
    this.flowsSync = await openFlowsSync({...c, env: this.nodeRedEnv}, this.statusUrl, {
      admin: this.startClient,
      log: this.log,
      clock: this.clock,
      running: () => this.state.flowsState === 'start',
      generation: () => this.state.child?.pid ?? null,
    })
    try {
      this.server = await startStatusServer(this, {host: c.statusHost, port: c.statusPort, token: c.statusToken, routes: [singletonRoute(this.singletons, this.singletonToken), ...(this.flowsSync ? [this.flowsSync.route()] : [])]})
    } catch (err) {
      await this.store?.close()
      await this.flowsSync?.stop()
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
      contextFence: this.contextFence ? this.contextFence.describe() : null,
    })
    this.witness?.start()
    this.flowsSync?.start()
    this.dispatch({kind: 'boot'})
    this.watch()
    if (this.elector) this.leaseLoop()
  }

  // ---- the status surface (machine queries) ----

  status(): AgentStatus {
    const view = this.elector?.view()
    const s = this.state
    return {
      replica: this.config.replica,
      mode: this.config.mode,
      role: s.role,
      leaseHolder: view?.holder ?? null,
      fencingToken: view?.token ?? null,
      leaseExpiresAt: view?.expiresAtMono != null ? toEpoch(this.clock, view.expiresAtMono) : null,
      nodeRedPid: s.child?.pid ?? null,
      flowsState: s.flowsState,
      rev: s.rev,
      restarts: s.restarts,
      since: s.since,
    }
  }

  health(): Health {
    return healthOf(this.state, this.clock.now())
  }

  active(): boolean {
    return isActive(this.state, this.leaseFacts())
  }

  metrics(): Promise<MetricsScrape> {
    const e = this.elector
    if (e) {
      this.counters.leaseAcquisitions = e.acquisitions
      this.counters.leaseLosses = e.losses
    }
    return this.counters.render(this.state.role, e?.view().token ?? null)
  }

  /**
   * POST /handover: the machine stops the flows and hands the lease over (invariant 9); then wait, within
   * the request's bound, until another replica has taken it (a tenure with a larger token), as this agent's
   * own lease reads see it (every candidate poll: 50 ms with sqlite).
   */
  async handover(request: HandoverRequest): Promise<{code: number; body: HandoverAnswer}> {
    const t0 = this.clock.now()
    const from = this.config.replica
    const to = request.to ?? null
    const view = () => this.elector?.view() ?? {holder: null, token: null}
    const answer = (code: number, fields: Partial<HandoverAnswer>) => {
      const v = view()
      return {code, body: {handedOver: false, from, to, taken: false, holder: v.holder, fencingToken: v.token, ms: Math.round(this.clock.now() - t0), ...fields}}
    }
    if (this.stopping) return answer(409, {error: 'the agent is stopping'})
    if (request.dryRun) {
      const st = this.status()
      const ok = this.active()
      return answer(ok ? 200 : 409, {handedOver: ok, dryRun: true, ...(ok ? {} : {error: `it is not the active replica (it is ${st.role})`})})
    }
    const tokenBefore = this.elector?.token ?? null
    const id = ++this.handoverSeq
    const settled = new Promise<{ok: boolean; reason: string}>(resolve => this.handovers.set(id, resolve))
    this.dispatch({kind: 'handover', id, to})
    const result = await settled
    if (!result.ok) return answer(409, {error: result.reason})
    const timeoutMs = request.timeoutMs ?? this.config.timings.leaseDurationMs + 1000
    const taken = () => {
      const v = view()
      return v.holder !== null && v.holder !== from && v.token !== null && (tokenBefore === null || v.token > tokenBefore)
    }
    while (!taken() && this.clock.now() - t0 < timeoutMs && !this.stopping) await new Promise<void>(r => this.later(10, r))
    return answer(200, {handedOver: true, taken: taken()})
  }

  stop(reason = 'stopped'): Promise<void> {
    if (this.stopping) return this.stopping
    this.stopping = this.done.then(() => undefined)
    this.watchdog?.cancel()
    this.witness?.stop()
    this.dispatch({kind: 'stop', reason})
    return this.stopping
  }

  // ---- stepping the machine ----

  private leaseFacts(): LeaseFacts | null {
    const e = this.elector
    if (!e) return null
    const view = e.view()
    return {leading: e.leading, token: e.token, holder: view.holder, recordToken: view.token, deadline: view.deadlineMono, lastRenewSentAt: e.lastRenewSentAt}
  }

  private stamp(event: SupervisorEvent): Stamp {
    const judgesProgress = event.kind === 'spawned' || event.kind === 'not-loaded' || event.kind === 'health-failed' || (event.kind === 'timer' && event.name === 'health-timeout')
    return {now: this.clock.now(), wall: this.clock.wall(), lease: this.leaseFacts(), ...(judgesProgress ? {cpuTicks: cpuTicks(this.child?.pid)} : {})}
  }

  /** Events are stepped one at a time, in order; one raised while stepping waits for its turn. */
  private dispatch(event: SupervisorEvent): void {
    this.queue.push(event)
    if (this.stepping) return
    this.stepping = true
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        const next = step(this.state, e, this.stamp(e))
        this.state = next.state
        for (const command of next.commands) this.perform(command)
      }
    } finally {
      this.stepping = false
    }
  }

  private perform(c: Command): void {
    switch (c.kind) {
      case 'log':
        return this.log(c.event, c.fields)
      case 'count':
        this.counters[c.metric]++
        return
      case 'observe-health':
        return this.counters.observeHealthCheck(c.seconds)
      case 'timer':
        return this.later(c.ms, () => this.dispatch({kind: 'timer', name: c.name, ref: c.ref}))
      case 'spawn':
        return this.spawnChild(c.gen)
      case 'kill':
        if (c.gen === this.childGen) this.child?.kill('SIGKILL')
        return
      case 'terminate': {
        const child = c.gen === this.childGen ? this.child : null
        void (child ? stopChild(child, TERMINATE_GRACE_MS) : Promise.resolve()).then(() => this.dispatch({kind: 'terminated', gen: c.gen}))
        return
      }
      case 'probe-loaded':
        // The long-timeout client: GET /flows serialises every node, seconds for a large file.
        this.startClient.getFlows().then(
          ({rev}) => this.dispatch({kind: 'loaded', gen: c.gen, rev}),
          () => this.dispatch({kind: 'not-loaded', gen: c.gen}),
        )
        return
      case 'read-flows-state':
        this.control.getFlowsState().then(
          state => this.dispatch({kind: 'flows-state', gen: c.gen, purpose: c.purpose, state}),
          () => this.dispatch({kind: 'flows-state', gen: c.gen, purpose: c.purpose, state: null}),
        )
        return
      case 'check-health':
        this.healthClient.getFlowsState().then(
          state => this.dispatch({kind: 'health-answered', id: c.id, state}),
          err => this.dispatch({kind: 'health-failed', id: c.id, failure: failure(err)}),
        )
        return
      case 'refresh-rev':
        this.startClient.getFlows().then(
          ({rev}) => this.dispatch({kind: 'rev', gen: c.gen, rev}),
          () => undefined, // health checks judge liveness, not this
        )
        return
      case 'start-flows':
        this.armContextFence().then(
          () =>
            this.startClient.setFlowsState('start').then(
              state => this.dispatch({kind: 'start-answered', id: c.id, state}),
              err => this.dispatch({kind: 'start-failed', id: c.id, failure: failure(err)}),
            ),
          // the start is retried by the machine; wait a little so that an unreachable store is not hammered
          err => this.later(FENCE_RETRY_MS, () => this.dispatch({kind: 'start-failed', id: c.id, failure: failure(err)})),
        )
        return
      case 'stop-flows':
        this.stopClient.setFlowsState('stop').then(
          state => this.dispatch({kind: 'stop-answered', id: c.id, state}),
          err => this.dispatch({kind: 'stop-failed', id: c.id, failure: failure(err)}),
        )
        return
      case 'resign-lease':
        // before anything else: from now on the store refuses this replica's writes
        this.contextFence?.clear()
        return this.elector?.resignNow(c.lost)
      case 'handover-settled':
        this.handovers.get(c.id)?.({ok: c.ok, reason: c.reason})
        this.handovers.delete(c.id)
        return
      case 'release-lease':
        if (!this.elector) return this.dispatch({kind: 'lease-released', reason: c.reason, released: false, forFence: c.forFence})
        void this.elector.release(c.to ?? null).then(released => this.dispatch({kind: 'lease-released', reason: c.reason, released, forFence: c.forFence}))
        return
      case 'boot-stopped':
        return this.bootStopped()
      case 'cleanup-preload':
        return this.launcher.cleanup()
      case 'finish':
        void this.finish(c.reason)
        return
    }
  }

  // ---- resources ----

  private spawnChild(gen: number): void {
    let child: ChildProcess
    try {
      child = this.launcher.spawn()
    } catch (err) {
      this.dispatch({kind: 'exited', gen, code: null, signal: null, error: errorMessage(err), logTail: this.launcher.logTail()})
      return
    }
    this.child = child
    this.childGen = gen
    let gone = false
    const onGone = (code: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (gone) return
      gone = true
      if (this.child === child) this.child = null
      this.dispatch({kind: 'exited', gen, code, signal, ...(error !== undefined ? {error} : {}), logTail: this.launcher.logTail()})
    }
    child.once('error', err => onGone(null, null, err.message))
    child.once('exit', (code, signal) => onGone(code, signal))
    const channel = child.stdio?.[AGENT_FD] as Readable | null | undefined
    if (channel) {
      channel.on('error', () => undefined)
      createInterface({input: channel}).on('line', line => this.onNodeRedSignal(gen, line))
    }
    this.dispatch({kind: 'spawned', gen, pid: child.pid ?? null, command: this.config.command.length ? this.config.command[0] : 'node-red'})
  }

  /** A line from the preload in Node-RED: a deploy began or ended (see deploy-window.ts). */
  private onNodeRedSignal(gen: number, line: string): void {
    let signal: DeploySignal
    try {
      signal = JSON.parse(line) as DeploySignal
    } catch {
      return
    }
    if (!signal || !DEPLOY_SIGNALS.has(signal.deploy)) return
    this.dispatch({kind: 'deploy-signal', gen, signal})
  }

  // The holder renews every retryPeriod. A candidate reads as often as its backend says reads are cheap
  // (sqlite: a local SELECT), and so sees a released lease sooner; else (an API server) at retryPeriod.
  private leaseLoop(): void {
    const retry = this.config.timings.retryPeriodMs
    const poll = leaseBackend(this.config.lease.backend).candidatePollMs
    const candidatePoll = poll === null ? retry : Math.min(poll, retry)
    const elector = this.elector!
    const loop = async () => {
      if (this.state.shutdown) return
      const t0 = this.clock.now()
      // A candidate also needs the shared record's flows: a spare never takes over with older ones.
      const round = await elector.tick(() => wantsLease(this.state, this.clock.now(), elector.leading) && (elector.leading || (this.flowsSync?.mayLead() ?? true)))
      if (round !== 'error') this.onStoreAnswered()
      const period = elector.leading ? retry : candidatePoll
      if (!this.state.shutdown) this.later(period - (this.clock.now() - t0), () => void loop())
    }
    void loop()
  }

  /** The watchdog: a tick every WATCHDOG_MS, so that the machine sees pauses and the renew deadline at once. */
  private watch(): void {
    this.watchdog = this.clock.after(WATCHDOG_MS, () => {
      if (this.stopping) return
      this.dispatch({kind: 'tick'})
      this.watch()
    })
  }

  /**
   * Hot-spare with the shared context store: before flows start, the store's fence is raised to this tenure's
   * token and the token file written, so every write of the new active carries it and an old one is refused.
   */
  private async armContextFence(): Promise<void> {
    const token = this.elector?.token
    if (!this.contextFence || token == null) return
    try {
      await this.contextFence.arm(token)
      if (this.lastFenceError) this.log('context', {action: 'fenced', fencingToken: token})
      this.lastFenceError = ''
    } catch (err) {
      const message = errorMessage(err)
      if (message !== this.lastFenceError) this.log('context', {action: 'error', error: message})
      this.lastFenceError = message
      throw err
    }
  }

  /** The backend's liveness lock (held for the life of the agent), where it can prove a replica dead. */
  private async openLiveness(): Promise<void> {
    const open = leaseBackend(this.config.lease.backend).openLiveness
    if (!open) return
    try {
      const opening = await open(this.config.lease, this.config.replica, this.launcher.canHoldLiveness())
      if (opening.disabled !== undefined) return this.log('warning', {message: `early takeover off: ${opening.disabled}`})
      this.liveness = opening.liveness
      this.launcher.liveness = this.liveness.childEnv()
    } catch (err) {
      await this.store?.close()
      throw err
    }
  }

  // Logged once per state change (lost, then regained), never once per failed round: a store that is down
  // for an hour (etcd without quorum) must not flood the log, and its changing error texts are one outage.
  private onStoreError(err: unknown): void {
    if (this.storeLostAt !== null) return
    this.storeLostAt = this.clock.now()
    this.log('lease', {action: 'store-lost', error: errorMessage(err), store: this.store?.describe})
  }

  private onStoreAnswered(): void {
    if (this.storeLostAt === null) return
    this.log('lease', {action: 'store-regained', downMs: Math.round(this.clock.now() - this.storeLostAt), store: this.store?.describe})
    this.storeLostAt = null
  }

  private bootStopped(): void {
    // Node-RED does not await its write of the stop state: a SIGTERM right after the stop can lose it. Make
    // sure the userDir boots stopped whoever starts it next.
    try {
      ensureBootsStopped(this.config.userDir)
    } catch (err) {
      this.log('error', {error: `cannot write ${this.config.userDir}/.config.runtime.json: ${errorMessage(err)}`})
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = this.clock.after(Math.max(0, ms), () => {
      this.timers.delete(timer)
      fn()
    })
    this.timers.add(timer)
  }

  private async finish(reason: string): Promise<void> {
    for (const t of this.timers) t.cancel()
    this.timers.clear()
    this.watchdog?.cancel()
    this.witness?.stop()
    this.child = null
    this.contextFence?.clear()
    this.bootStopped()
    await Promise.allSettled([this.control.close(), this.healthClient.close(), this.stopClient.close(), this.startClient.close()])
    await this.singletons.close()
    await this.store?.close()
    this.liveness?.close()
    await this.flowsSync?.stop()
    this.launcher.cleanup()
    if (this.server) {
      this.server.closeAllConnections()
      await new Promise(resolve => this.server!.close(resolve))
    }
    this.log('stopped', {reason})
    this.resolveDone({reason})
  }
}
