// The supervisor as a pure state machine, after client-go's tools/leaderelection and like lease/machine.ts:
// step(state, event, stamp) returns the next state and the commands to perform. No I/O, no clock, no
// timers of its own: the shell (agent.ts) stamps every event with the monotonic and wall time and what the
// lease elector says, performs the commands (spawn and kill Node-RED, admin API calls, lease release,
// timers on the Clock) and feeds their outcomes back as events, one at a time. The table test drives it
// with a fake clock (test/unit/agent/supervisor-machine.test.ts). docs/design/supervisor.md draws it.
//
// Invariants (each is relied on below and checked by the table test):
// 1. Flows start only for a tenure we hold: a start is asked only while the lease says we lead with the
//    token we acquired (hot-spare), and an answer that comes back after the tenure ended stops them again
//    (fence 'lost-while-starting').
// 2. On any doubt (lease lost, renew deadline passed, a pause, the witness gone, flows found running
//    unleased) the machine fences: it stops leading at once (resignLease, in the same step), then stops
//    the flows, and releases the lease only after the stop is confirmed.
// 3. Fencing deadline: the lease can expire, as others judge it, leaseDuration after our last renew was
//    sent. If an API stop (bounded by stopBoundMs) could end after that, or the lease is known taken,
//    Node-RED is killed in the same step instead of asked; otherwise it gets stopBoundMs to confirm the
//    stop, then it is killed. Either way no flow runs here once another replica may start its own.
// 4. A dead Node-RED runs no flows: its lease is released at once (fast takeover), and it is restarted
//    after the restart policy's backoff; a crash loop stops wanting the lease until a stable run.
// 5. Hang detection: healthFailureThreshold failed checks in a row kill Node-RED, unless a deploy is under
//    way and still shows signs of life (deploy-window.ts); a start or a stop in flight pauses the checks
//    (starting or stopping many nodes blocks Node-RED's event loop), each having its own bound.
// 6. Every answer is matched to the request it answers (request ids, the child's generation, the flows
//    epoch): a late answer about an older child, request or state never overwrites a newer one.
// 7. A candidate wants the lease only with a loaded, healthy Node-RED whose flows are confirmed stopped,
//    not crash looping, and (with a witness) having reached the witness within renewDeadline. A leader
//    keeps wanting it until a fence or a stop: a renew is never skipped by accident.
// 8. Shutdown: flows stop before the lease is released (hot-spare), /healthz fails for drainMs before
//    Node-RED is stopped (load-balanced), and no fence or restart begins once stopping.
// 9. Handover on request (POST /handover, a deploy's hand-off to an updated spare): only a settled active
//    (leading, flows confirmed started, no start, stop, fence or shutdown under way) hands over. It leaves
//    the active role at once (/active 503) and keeps renewing the lease while it stops its flows, so nobody
//    may take it meanwhile. Only after the stop is confirmed does it write the record to the named replica
//    (or release it). Then it does not want the lease for leaseDuration (the hold-off), so that a spare, not
//    itself, takes it. The stop has stopBoundMs, as in a graceful stop: Node-RED's MQTT broker node can take
//    2 s to close when its broker does not answer, and the spare must not wait that long; after the bound
//    Node-RED is killed, and its exit releases the lease (4). A lease lost meanwhile is a fence (2).
import type {FlowsState} from '../../admin/types.js'
import {DeployWindow, type DeploySignal} from '../deploy-window.js'
import {RestartPolicy, describeExit, type RestartPolicyOptions} from '../restart-policy.js'
import type {AgentRole as Role} from '../../model/roles.js'
import {reachedWithin} from '../witness.js'

/** A watchdog tick later than this after the previous one is a pause (SIGSTOP, a stalled VM). */
export const PAUSE_GAP_MS = 250
/** A renew deadline missed this soon after a pause is reported as the pause. */
export const PAUSE_RECENT_MS = 1000
export const POLL_LOADED_MS = 25
export const REV_REFRESH_MS = 5000
/** How long a "start" right after boot may be Node-RED's misreport rather than flows running. */
export const BOOT_MISREPORT_MS = 1000
export const MISREPORT_POLL_MS = 50
/** After the boot timeout, how often to look again whether Node-RED still uses CPU (it is loading). */
export const BOOT_PROGRESS_MS = 5000
export const BOOT_HARD_CAP = 10
/** How long POST /flows/state start may take: thousands of function nodes take seconds to start. */
export const START_TIMEOUT_MS = 60_000

export interface SupervisorConfig {
  replica: string
  /**
   * The mode's singleActive (src/modes/): flows run only under the lease (hot-spare). Without it (load-
   * balanced), flows start as soon as Node-RED is loaded and there is no lease.
   */
  leased: boolean
  timings: {leaseDurationMs: number; renewDeadlineMs: number; healthIntervalMs: number; healthTimeoutMs: number; healthFailureThreshold: number}
  stopBoundMs: number
  bootTimeoutMs: number
  restartPolicy: RestartPolicyOptions
  /** How long /healthz fails before Node-RED is stopped: 0 unless the mode's agent.drainsOnStop. */
  drainMs: number
  /** failover.witness (host:port), or null. */
  witness: string | null
  userDir: string
}

/** What the lease elector says at the moment of an event (null: no lease, load-balanced). */
export interface LeaseFacts {
  /** We hold the lease and our last renew is within renewDeadline. */
  leading: boolean
  /** Our tenure's fencing token while leading. */
  token: number | null
  /** The record's holder and token as last seen. */
  holder: string | null
  recordToken: number | null
  /** Monotonic ms at which we must stop leading; null when not leading. */
  deadline: number | null
  /** Monotonic ms at which our last successful acquire or renew was sent (kept after we resign). */
  lastRenewSentAt: number | null
}

/** Stamped on every event by the shell. */
export interface Stamp {
  now: number
  wall: number
  lease: LeaseFacts | null
  /** Node-RED's CPU ticks (utime + stime) now, on the events that judge progress; null when unknown. */
  cpuTicks?: number | null
}

/** A failed admin request, in the words the log uses. */
export interface RequestFailure {
  /** AdminError kind (timeout, connection, server-error, ...), or null for another error. */
  kind: string | null
  status: number | null
  message: string
}

export type TimerName = 'health' | 'health-timeout' | 'load-retry' | 'misreport' | 'stable' | 'respawn' | 'start-retry' | 'start-wait' | 'stop-bound' | 'drain'

export type SupervisorEvent =
  | {kind: 'boot'}
  | {kind: 'stop'; reason: string}
  | {kind: 'tick'}
  | {kind: 'timer'; name: TimerName; ref: number}
  | {kind: 'spawned'; gen: number; pid: number | null; command: string}
  | {kind: 'exited'; gen: number; code: number | null; signal: string | null; error?: string; logTail: string}
  | {kind: 'loaded'; gen: number; rev: string}
  | {kind: 'not-loaded'; gen: number}
  | {kind: 'flows-state'; gen: number; purpose: 'ready' | 'misreport'; state: FlowsState | null}
  | {kind: 'health-answered'; id: number; state: FlowsState}
  | {kind: 'health-failed'; id: number; failure: RequestFailure}
  | {kind: 'rev'; gen: number; rev: string}
  | {kind: 'start-answered'; id: number; state: FlowsState}
  | {kind: 'start-failed'; id: number; failure: RequestFailure}
  | {kind: 'stop-answered'; id: number; state: FlowsState}
  | {kind: 'stop-failed'; id: number; failure: RequestFailure}
  | {kind: 'deploy-signal'; gen: number; signal: DeploySignal}
  | {kind: 'lease-acquired'; token: number; previousHolder: string | null}
  | {kind: 'lease-lost'; reason: 'lost' | 'renew-deadline'}
  | {kind: 'lease-released'; reason: string; released: boolean; forFence: boolean}
  | {kind: 'witness-probed'; ok: boolean; startedAt: number}
  | {kind: 'terminated'; gen: number}
  /** Hand the lease over (POST /handover): to the named replica, or to whichever spare takes it first. */
  | {kind: 'handover'; id: number; to: string | null}

export type Metric = 'fences' | 'restarts' | 'healthFailures' | 'failovers' | 'leaseReleases'

export type Command =
  | {kind: 'log'; event: string; fields: Record<string, unknown>}
  | {kind: 'count'; metric: Metric}
  | {kind: 'observe-health'; seconds: number}
  | {kind: 'timer'; name: TimerName; ms: number; ref: number}
  | {kind: 'spawn'; gen: number}
  /** SIGKILL the child of this generation, if it still runs. */
  | {kind: 'kill'; gen: number}
  /** Shutdown: SIGTERM, then SIGKILL after a grace; answered by 'terminated'. */
  | {kind: 'terminate'; gen: number}
  /** GET /flows with the long timeout; answered by 'loaded' or 'not-loaded'. */
  | {kind: 'probe-loaded'; gen: number}
  | {kind: 'read-flows-state'; gen: number; purpose: 'ready' | 'misreport'}
  | {kind: 'check-health'; gen: number; id: number}
  | {kind: 'refresh-rev'; gen: number}
  | {kind: 'start-flows'; gen: number; id: number}
  | {kind: 'stop-flows'; gen: number; id: number}
  | {kind: 'resign-lease'; lost: boolean}
  | {kind: 'release-lease'; reason: string; forFence: boolean; to?: string | null}
  /** The handover `id` is over: `ok` when the lease was given up, else why not (answers POST /handover). */
  | {kind: 'handover-settled'; id: number; ok: boolean; reason: string}
  | {kind: 'boot-stopped'}
  | {kind: 'cleanup-preload'}
  | {kind: 'finish'; reason: string}

interface Child {
  gen: number
  pid: number | null
  startedAt: number
  ready: boolean
  /** Loading: boot deadline and start of the load. */
  loadT0: number
  loadDeadline: number
  /** The boot-time misreport watch: until when, and the last state read. */
  misreport: {until: number; state: FlowsState | null} | null
}

interface FlowsStart {
  id: number
  /** The tenure it is for (null: load-balanced). */
  token: number | null
  attempts: number
  t0: number
  inFlight: boolean
}

interface FlowsStop {
  id: number
  gen: number
  reason: string
  t0: number
  /** Waiting for the child's exit after a kill. */
  killing: boolean
}

interface Fence {
  id: number
  reason: string
  phase: 'await-start' | 'stopping' | 'killing' | 'releasing'
}

interface Handover {
  /** The request's id (the shell's), answered by handover-settled. */
  id: number
  to: string | null
  phase: 'stopping' | 'releasing'
  t0: number
}

interface Shutdown {
  reason: string
  phase: 'await-fence' | 'await-start' | 'stopping' | 'releasing' | 'draining' | 'terminating' | 'done'
  /** The record named us when the stop began. */
  holder: boolean
  /** The start-wait timer's ref. */
  waitId: number
}

export interface SupervisorState {
  readonly config: SupervisorConfig
  role: Role
  /** Wall ms of the last role change. */
  since: number
  /** The generation of the last spawn; events about an older one are stale (invariant 6). */
  gen: number
  child: Child | null
  childStartedAt: number
  flowsState: FlowsState | null
  /** Bumped at every start/stop we confirm, so that an older health answer does not overwrite it. */
  flowsEpoch: number
  rev: string | null
  lastRevAt: number
  restarts: number
  crashReason: string
  restartPolicy: RestartPolicy
  deploys: DeployWindow
  healthFailures: number
  health: {id: number; gen: number; sentAt: number; epoch: number} | null
  unleasedStartSince: number | null
  cpu: {pid: number; ticks: number} | null
  start: FlowsStart | null
  stopOp: FlowsStop | null
  fence: Fence | null
  shutdown: Shutdown | null
  handover: Handover | null
  /** Monotonic ms until which a replica that handed over does not want the lease back (invariant 9). */
  holdOffUntil: number
  lastWatch: number
  lastPauseAt: number
  witnessOkAt: number | null
  /** Request and timer ids. */
  seq: number
}

export function initialState(config: SupervisorConfig, now: number, wall: number): SupervisorState {
  return {
    config,
    role: 'starting',
    since: wall,
    gen: 0,
    child: null,
    childStartedAt: now,
    flowsState: null,
    flowsEpoch: 0,
    rev: null,
    lastRevAt: 0,
    restarts: 0,
    crashReason: '',
    restartPolicy: new RestartPolicy(config.restartPolicy),
    deploys: new DeployWindow(),
    healthFailures: 0,
    health: null,
    unleasedStartSince: null,
    cpu: null,
    start: null,
    stopOp: null,
    fence: null,
    shutdown: null,
    handover: null,
    holdOffUntil: -Infinity,
    lastWatch: now,
    lastPauseAt: -Infinity,
    witnessOkAt: null,
    seq: 0,
  }
}

// ---- queries (the status surface and the lease's want(); pure) ----

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

export function healthOf(s: SupervisorState, now: number): {ok: boolean; reason?: string} {
  if (s.shutdown) return {ok: false, reason: 'stopping'}
  if (s.restartPolicy.crashLooping) return {ok: false, reason: `crash loop: ${s.crashReason}`}
  if (!s.child) return {ok: false, reason: 'Node-RED is not running (restarting)'}
  if (!s.child.ready) return {ok: false, reason: 'Node-RED is starting (flows not loaded yet)'}
  if (s.healthFailures > 0) {
    const busy = s.deploys.underWay(now)
    if (busy) return {ok: false, reason: `Node-RED is busy with a deploy (${mb(busy.bytes)}, for ${busy.sinceMs} ms; a hang only after ${busy.graceMs} ms)`}
    return {ok: false, reason: `Node-RED failed ${s.healthFailures} health check(s) in a row`}
  }
  return {ok: true}
}

/** /active: flows confirmed started, and (hot-spare) the lease held right now. */
export function isActive(s: SupervisorState, lease: LeaseFacts | null): boolean {
  if (s.role !== 'active' || s.flowsState !== 'start' || !s.child?.ready) return false
  return s.config.leased ? !!lease?.leading : true
}

export function witnessReachable(s: SupervisorState, now: number): boolean {
  return reachedWithin(s.witnessOkAt, now, s.config.timings.renewDeadlineMs)
}

/** Whether to acquire or renew now (invariant 7). */
export function wantsLease(s: SupervisorState, now: number, leading: boolean): boolean {
  if (s.shutdown || s.fence || !s.child || !s.child.ready) return false
  if (leading) return true
  if (now < s.holdOffUntil || s.handover) return false
  if (s.config.witness && !witnessReachable(s, now)) return false
  return !s.restartPolicy.crashLooping && s.healthFailures === 0 && s.flowsState === 'stop'
}

// ---- the step ----

export interface Step {
  state: SupervisorState
  commands: Command[]
}

/** One event in, the next state and the commands out. The given state is not changed. */
export function step(state: SupervisorState, event: SupervisorEvent, stamp: Stamp): Step {
  const t = new Transition(state, stamp)
  t.handle(event)
  return {state: t.s, commands: t.out}
}

// The step's working copy: the methods read like the old imperative agent, but they change only the copy
// and append commands.
class Transition {
  readonly s: SupervisorState
  readonly out: Command[] = []
  private readonly now: number

  constructor(
    prev: SupervisorState,
    private readonly stamp: Stamp,
  ) {
    this.now = stamp.now
    this.s = {
      ...prev,
      child: prev.child && {...prev.child, misreport: prev.child.misreport && {...prev.child.misreport}},
      health: prev.health && {...prev.health},
      cpu: prev.cpu && {...prev.cpu},
      start: prev.start && {...prev.start},
      stopOp: prev.stopOp && {...prev.stopOp},
      fence: prev.fence && {...prev.fence},
      shutdown: prev.shutdown && {...prev.shutdown},
      handover: prev.handover && {...prev.handover},
      restartPolicy: prev.restartPolicy.clone(),
      deploys: prev.deploys.clone(),
    }
  }

  private get c(): SupervisorConfig {
    return this.s.config
  }

  private get lease(): LeaseFacts | null {
    return this.stamp.lease
  }

  /** Leading as the elector says, unless this step already resigned (a fence). */
  private get leading(): boolean {
    return !this.s.fence && !this.s.handover && !!this.lease?.leading
  }

  private log(event: string, fields: Record<string, unknown> = {}): void {
    this.out.push({kind: 'log', event, fields})
  }

  private count(metric: Metric): void {
    this.out.push({kind: 'count', metric})
  }

  private timer(name: TimerName, ms: number, ref: number): void {
    this.out.push({kind: 'timer', name, ms: Math.max(0, ms), ref})
  }

  private nextId(): number {
    return ++this.s.seq
  }

  private setRole(role: Role, fields: Record<string, unknown> = {}): void {
    if (role === this.s.role) return
    const from = this.s.role
    this.s.role = role
    this.s.since = this.stamp.wall
    this.log('role', {role, from, fencingToken: this.lease?.token ?? this.lease?.recordToken ?? null, ...fields})
  }

  /** Whether the child of `gen` is the current, running one. */
  private current(gen: number): boolean {
    return this.s.child !== null && this.s.child.gen === gen
  }

  /** Node-RED used CPU since the last look (Linux /proc; elsewhere never, so only deploy signals count). */
  private cpuAdvanced(): boolean {
    const pid = this.s.child?.pid
    const ticks = this.stamp.cpuTicks
    if (!pid || ticks == null) return false
    const advanced = this.s.cpu?.pid === pid && ticks > this.s.cpu.ticks
    this.s.cpu = {pid, ticks}
    return advanced
  }

  handle(e: SupervisorEvent): void {
    if (this.s.shutdown?.phase === 'done') return
    switch (e.kind) {
      case 'boot':
        // The watchdog starts now: the time spent opening the lease store and the status server is no pause.
        this.s.lastWatch = this.now
        this.spawn()
        this.timer('health', this.c.timings.healthIntervalMs, 0)
        return
      case 'stop':
        return this.beginShutdown(e.reason)
      case 'tick':
        return this.tick()
      case 'timer':
        return this.onTimer(e.name, e.ref)
      case 'spawned':
        return this.onSpawned(e.gen, e.pid, e.command)
      case 'exited':
        return this.onExited(e)
      case 'loaded':
        return this.onLoaded(e.gen, e.rev)
      case 'not-loaded':
        return this.onNotLoaded(e.gen)
      case 'flows-state':
        return e.purpose === 'ready' ? this.onReadyState(e.gen, e.state) : this.onMisreportState(e.gen, e.state)
      case 'health-answered':
        return this.onHealthAnswered(e.id, e.state)
      case 'health-failed':
        return this.onHealthFailed(e.id, e.failure)
      case 'rev':
        if (this.s.gen === e.gen) this.s.rev = e.rev
        return
      case 'start-answered':
        return this.onStartAnswered(e.id, e.state)
      case 'start-failed':
        return this.onStartFailed(e.id, e.failure)
      case 'stop-answered':
        return this.onStopAnswered(e.id, e.state)
      case 'stop-failed':
        return this.onStopFailed(e.id, e.failure)
      case 'deploy-signal':
        return this.onDeploySignal(e.gen, e.signal)
      case 'lease-acquired':
        return this.onAcquired(e.token, e.previousHolder)
      case 'lease-lost':
        if (this.s.shutdown) return
        return this.beginFence(e.reason === 'lost' ? 'lease-lost' : this.now - this.s.lastPauseAt < PAUSE_RECENT_MS ? 'pause' : 'renew-deadline')
      case 'lease-released':
        return this.onReleased(e.reason, e.released, e.forFence)
      case 'witness-probed':
        if (e.ok) this.s.witnessOkAt = Math.max(this.s.witnessOkAt ?? -Infinity, e.startedAt)
        return
      case 'terminated':
        if (this.s.shutdown?.phase === 'terminating') this.finish()
        return
      case 'handover':
        return this.beginHandover(e.id, e.to)
    }
  }

  private onTimer(name: TimerName, ref: number): void {
    const s = this.s
    switch (name) {
      case 'health':
        return this.healthDue()
      case 'health-timeout':
        if (s.health?.id === ref) this.onHealthFailed(ref, {kind: 'timeout', status: null, message: `GET /flows/state: no answer within ${this.c.timings.healthTimeoutMs} ms`})
        return
      case 'load-retry':
        if (this.current(ref) && !s.child!.ready && !s.shutdown) this.out.push({kind: 'probe-loaded', gen: ref})
        return
      case 'misreport':
        if (this.current(ref) && s.child!.misreport) this.out.push({kind: 'read-flows-state', gen: ref, purpose: 'misreport'})
        return
      case 'stable':
        if (this.current(ref) && s.child!.ready) s.restartPolicy.stable()
        return
      case 'respawn':
        if (s.gen === ref && !s.shutdown) this.spawn()
        return
      case 'start-retry':
        if (s.start?.id === ref && !s.start.inFlight) this.attemptStart()
        return
      case 'start-wait':
        // A start in flight did not answer within stopBoundMs: stop anyway.
        if (s.fence?.id === ref && s.fence.phase === 'await-start') return this.fenceStop()
        if (s.shutdown?.phase === 'await-start' && ref === s.shutdown.waitId) return this.shutdownStop()
        return
      case 'stop-bound':
        if (s.stopOp?.id === ref && !s.stopOp.killing) {
          this.onStopFailed(ref, {kind: 'timeout', status: null, message: `POST /flows/state stop: no answer within ${this.c.stopBoundMs} ms`})
        }
        return
      case 'drain':
        if (s.shutdown?.phase === 'draining') this.terminate()
        return
    }
  }

  // ---- the watchdog: pauses, the renew deadline, the witness ----

  private tick(): void {
    const s = this.s
    const gap = this.now - s.lastWatch
    s.lastWatch = this.now
    if (gap > PAUSE_GAP_MS) {
      s.lastPauseAt = this.now
      this.log('pause', {gapMs: Math.round(gap), leading: this.lease?.deadline != null})
    }
    if (!this.c.leased || s.shutdown || !this.lease) return
    // Invariant 2: the renew deadline is checked on every tick, before anything else can await.
    if (this.lease.deadline !== null && this.now >= this.lease.deadline) {
      this.out.push({kind: 'resign-lease', lost: true})
      return this.beginFence(this.now - s.lastPauseAt < PAUSE_RECENT_MS ? 'pause' : 'renew-deadline')
    }
    if (this.c.witness && this.leading && !witnessReachable(s, this.now)) {
      this.log('witness', {ok: false, witness: this.c.witness, reason: `not reached for ${this.c.timings.renewDeadlineMs} ms`})
      this.beginFence('witness-unreachable')
    }
  }

  // ---- Node-RED, the child ----

  private spawn(): void {
    const s = this.s
    if (s.shutdown) return
    s.gen++
    s.child = null
    s.flowsState = null
    s.rev = null
    s.healthFailures = 0
    s.deploys.reset()
    if (!s.fence) this.setRole('starting')
    this.out.push({kind: 'spawn', gen: s.gen})
  }

  private onSpawned(gen: number, pid: number | null, command: string): void {
    const s = this.s
    if (gen !== s.gen) return
    s.child = {gen, pid, startedAt: this.now, ready: false, loadT0: this.now, loadDeadline: this.now + this.c.bootTimeoutMs, misreport: null}
    s.childStartedAt = this.now
    this.cpuAdvanced() // the baseline
    this.log('node-red-spawn', {pid, command})
    this.out.push({kind: 'probe-loaded', gen})
  }

  private onNotLoaded(gen: number): void {
    const child = this.s.child
    if (!child || child.gen !== gen || child.ready || this.s.shutdown) return
    if (this.now > child.loadDeadline) {
      // Loading a large flows file takes longer than any fixed bound (107,000 nodes: over a minute here):
      // while Node-RED's CPU time grows it is loading, not hung; up to BOOT_HARD_CAP boot timeouts.
      if (this.cpuAdvanced() && this.now - child.loadT0 < BOOT_HARD_CAP * this.c.bootTimeoutMs) {
        child.loadDeadline = this.now + BOOT_PROGRESS_MS
      } else {
        this.log('health', {ok: false, action: 'kill', reason: `Node-RED did not load its flows within ${Math.round(this.now - child.loadT0)} ms`})
        this.out.push({kind: 'kill', gen})
        return
      }
    }
    this.timer('load-retry', POLL_LOADED_MS, gen)
  }

  private onLoaded(gen: number, rev: string): void {
    const child = this.s.child
    if (!child || child.gen !== gen || child.ready || this.s.shutdown) return
    this.s.rev = rev
    this.s.lastRevAt = this.now
    this.out.push({kind: 'read-flows-state', gen, purpose: 'ready'})
  }

  private onReadyState(gen: number, state: FlowsState | null): void {
    const s = this.s
    const child = s.child
    if (!child || child.gen !== gen || s.shutdown) return
    // The parent-watch preload was required at Node-RED's start: remove it now, so that nothing is left in
    // the temp dir if this agent is killed (the next spawn writes it again).
    this.out.push({kind: 'cleanup-preload'})
    child.ready = true
    s.flowsState = state
    this.log('node-red-ready', {pid: child.pid, rev: s.rev, flowsState: state, bootMs: Math.round(this.now - child.startedAt)})
    this.timer('stable', this.c.restartPolicy.stableMs, gen)
    if (!this.c.leased) return this.startFlows(null)
    if (state === 'start' && !this.leading) {
      // Right after boot Node-RED may report "start" for a moment before it reads the persisted "stop" (its
      // flows start() sets the state first and checks it after an await). Look again before acting.
      child.misreport = {until: this.now + BOOT_MISREPORT_MS, state}
      this.timer('misreport', MISREPORT_POLL_MS, gen)
      return
    }
    this.becomeSpare()
  }

  private onMisreportState(gen: number, read: FlowsState | null): void {
    const s = this.s
    const child = s.child
    if (!child || child.gen !== gen || !child.misreport) return
    const state = read ?? child.misreport.state
    if (state === 'start' && this.now < child.misreport.until) {
      child.misreport.state = state
      this.timer('misreport', MISREPORT_POLL_MS, gen)
      return
    }
    child.misreport = null
    if (s.shutdown) return
    s.flowsState = state
    if (state === 'start' && !this.leading) {
      // It booted started: the persisted state was lost or someone changed it. Never run flows unleased.
      this.log('unexpected-start', {reason: 'Node-RED booted with flows started'})
      return this.beginFence('not-leader')
    }
    this.becomeSpare()
  }

  private becomeSpare(): void {
    if (!this.s.fence && !this.leading && this.s.child?.ready) this.setRole('spare')
  }

  private onExited(e: Extract<SupervisorEvent, {kind: 'exited'}>): void {
    const s = this.s
    if (e.gen !== s.gen) return
    const ranMs = Math.round(this.now - s.childStartedAt)
    const pid = s.child?.pid ?? null
    s.child = null
    s.flowsState = null
    s.flowsEpoch++
    const reason = e.error ? `could not be started (${e.error})` : describeExit(e.code, e.signal)
    this.log('node-red-exit', {pid, code: e.code, signal: e.signal, reason: `Node-RED ${reason}`, ranMs})
    this.out.push({kind: 'boot-stopped'})
    // Dead, so no flows run here, and the lease is released just below (invariant 4): the handover happened.
    if (s.handover) this.settleHandover(true, `Node-RED ${reason}; its lease was released`)
    if (s.shutdown) return this.stopsOver(e.gen)
    if (this.c.leased && this.lease) {
      // Invariant 4: dead, no flows run, so give the lease up now instead of letting it expire.
      const wasHolder = this.lease.holder === this.c.replica
      this.out.push({kind: 'resign-lease', lost: false})
      if (wasHolder) this.out.push({kind: 'release-lease', reason: 'node-red-exit', forFence: false})
    }
    if (!s.fence) this.setRole('starting', {reason: `Node-RED ${reason}`})
    const decision = s.restartPolicy.failed(ranMs)
    s.crashReason = `Node-RED ${reason} ${decision.consecutive} times in a row${ranMs < 60_000 ? `, the last after ${ranMs} ms` : ''}; last log: ${e.logTail || '(empty)'}`
    if (decision.newlyCrashLooping) {
      this.log('crash-loop', {consecutive: decision.consecutive, reason: s.crashReason, nextRestartMs: decision.delayMs, log: `${this.c.userDir}/node-red.log`})
    }
    s.restarts++
    this.count('restarts')
    this.log('restart', {attempt: s.restarts, consecutive: decision.consecutive, delayMs: decision.delayMs})
    this.timer('respawn', decision.delayMs, s.gen)
    this.stopsOver(e.gen)
  }

  /** The child is gone: a stop or a fence that was killing it is over (nothing runs any more). */
  private stopsOver(gen: number): void {
    this.exitedDuringStop(gen)
    if (this.s.fence?.phase === 'killing') this.fenceDone()
  }

  /** A line from the preload in Node-RED: a deploy began or ended (see deploy-window.ts). */
  private onDeploySignal(gen: number, signal: DeploySignal): void {
    if (gen !== this.s.gen) return
    const wasDeploying = this.s.deploys.underWay(this.now)?.write ?? false
    this.s.deploys.signal(signal, this.now)
    if (signal.deploy === 'start' && signal.write && !wasDeploying) this.log('deploy', {action: 'start', bytes: signal.bytes})
  }

  // ---- health ----

  /** Checks on a fixed cadence (a slow check does not stretch the period), one at a time. */
  private healthDue(): void {
    const s = this.s
    if (s.shutdown) return
    const child = s.child
    // Invariant 5: a start or a stop in flight has its own bound.
    if (!child || !child.ready || s.start?.inFlight || s.fence || s.handover) {
      this.timer('health', this.c.timings.healthIntervalMs, 0)
      return
    }
    const id = this.nextId()
    s.health = {id, gen: child.gen, sentAt: this.now, epoch: s.flowsEpoch}
    this.out.push({kind: 'check-health', gen: child.gen, id})
    this.timer('health-timeout', this.c.timings.healthTimeoutMs, id)
  }

  private healthDone(sentAt: number): void {
    this.s.health = null
    if (!this.s.shutdown) this.timer('health', this.c.timings.healthIntervalMs - (this.now - sentAt), 0)
  }

  private onHealthAnswered(id: number, state: FlowsState): void {
    const s = this.s
    const h = s.health
    if (!h || h.id !== id) return
    this.healthDone(h.sentAt)
    if (h.gen !== s.gen) return
    this.out.push({kind: 'observe-health', seconds: (this.now - h.sentAt) / 1000})
    const window = s.deploys.underWay(this.now)
    const deployEnded = s.deploys.healthy(h.sentAt) === 'closed' && window?.write === true
    if (deployEnded) this.log('deploy', {action: 'done', ms: window!.sinceMs, failedChecks: s.healthFailures})
    else if (s.healthFailures > 0) this.log('health', {ok: true, after: s.healthFailures})
    s.healthFailures = 0
    const fresh = h.epoch === s.flowsEpoch
    if (fresh) s.flowsState = state
    const unleased = this.c.leased && state === 'start' && !this.leading && !s.start?.inFlight && !s.fence && !s.shutdown && !s.handover && fresh
    if (!unleased) s.unleasedStartSince = null
    else if (s.unleasedStartSince === null) s.unleasedStartSince = this.now
    else if (this.now - s.unleasedStartSince >= BOOT_MISREPORT_MS / 2) {
      // Seen twice, apart: not the boot-time misreport. Someone started flows here without the lease.
      s.unleasedStartSince = null
      this.log('unexpected-start', {reason: 'flows are running on a replica that does not hold the lease'})
      this.beginFence('not-leader')
    }
    // GET /flows serialises every node (seconds for large flows): with the deploy channel, read the rev
    // again only after a deploy; without it (a custom command), every REV_REFRESH_MS.
    if (deployEnded || (!s.deploys.heard && this.now - s.lastRevAt > REV_REFRESH_MS)) {
      s.lastRevAt = this.now
      this.out.push({kind: 'refresh-rev', gen: h.gen})
    }
  }

  private onHealthFailed(id: number, failure: RequestFailure): void {
    const s = this.s
    const h = s.health
    if (!h || h.id !== id) return
    this.healthDone(h.sentAt)
    const child = s.child
    if (!child || h.gen !== child.gen || s.shutdown) return
    s.healthFailures++
    this.count('healthFailures')
    const threshold = this.c.timings.healthFailureThreshold
    // A deploy under way blocks Node-RED for as long as its flows take to parse, save and start: busy, not hung.
    if (this.cpuAdvanced()) s.deploys.alive(this.now)
    const busy = s.deploys.underWay(this.now)
    const hung = s.healthFailures >= threshold && !busy
    if (busy && s.healthFailures !== 1 && s.healthFailures % 20 !== 0) return
    this.log('health', {
      ok: false,
      consecutive: s.healthFailures,
      threshold,
      latencyMs: Math.round(this.now - h.sentAt),
      error: failure.kind ?? failure.message,
      ...(busy ? {busy: `deploy of ${mb(busy.bytes)} under way for ${busy.sinceMs} ms (a hang only after ${busy.graceMs} ms)`} : {}),
      ...(hung ? {action: 'kill', reason: `Node-RED failed ${threshold} health checks in a row (hang)`} : {}),
    })
    // A hung Node-RED cannot be asked to stop its flows: kill it. Its exit releases the lease.
    if (hung) this.out.push({kind: 'kill', gen: child.gen})
  }

  // ---- the lease ----

  private onAcquired(token: number, previousHolder: string | null): void {
    this.log('lease', {action: 'acquired', fencingToken: token, previousHolder})
    if (previousHolder) this.count('failovers')
    this.startFlows(token)
  }

  private onReleased(reason: string, released: boolean, forFence: boolean): void {
    if (released) {
      this.count('leaseReleases')
      this.log('lease', {action: 'released', reason})
    }
    if (forFence && this.s.fence?.phase === 'releasing') this.fenceDone()
    else if (reason === 'handover') {
      // (a handover's release never moves a shutdown on: the shutdown waits for its own)
      if (this.s.handover?.phase === 'releasing') this.handoverDone(released)
    } else if (!forFence && this.s.shutdown?.phase === 'releasing') this.shutdownDrain()
  }

  // ---- flows ----

  /** Invariant 1: a start is asked only for the tenure it is for. */
  private mayStart(token: number | null): boolean {
    return !this.s.shutdown && !this.s.fence && !!this.s.child && (token === null || (this.leading && this.lease?.token === token))
  }

  /** Start flows for tenure `token` (null: load-balanced, no lease), retrying the early-boot 500. */
  private startFlows(token: number | null): void {
    this.s.start = {id: this.nextId(), token, attempts: 0, t0: this.now, inFlight: false}
    this.attemptStart()
  }

  private attemptStart(): void {
    const start = this.s.start!
    if (!this.mayStart(start.token)) {
      this.s.start = null
      return
    }
    start.attempts++
    start.inFlight = true
    this.out.push({kind: 'start-flows', gen: this.s.child!.gen, id: start.id})
  }

  private onStartAnswered(id: number, state: FlowsState): void {
    const s = this.s
    const start = s.start
    if (!start || start.id !== id || !start.inFlight) return
    start.inFlight = false
    if (state === 'start') {
      s.flowsEpoch++
      s.flowsState = 'start'
      s.start = null
      if (!this.mayStart(start.token)) {
        // We lost the lease while the start was in flight: stop again at once.
        if (start.token !== null) this.beginFence('lost-while-starting')
        this.startSettled()
        return
      }
      this.setRole('active', {startMs: Math.round(this.now - start.t0), attempts: start.attempts})
      return
    }
    this.timer('start-retry', POLL_LOADED_MS, id)
    this.startSettled()
  }

  private onStartFailed(id: number, failure: RequestFailure): void {
    const s = this.s
    const start = s.start
    if (!start || start.id !== id || !start.inFlight) return
    start.inFlight = false
    if (failure.kind === 'timeout' && s.child) {
      // Hung while starting its flows: it cannot be trusted to stop them either.
      this.log('health', {ok: false, action: 'kill', reason: `Node-RED did not confirm the start within ${START_TIMEOUT_MS} ms (hang)`})
      this.out.push({kind: 'kill', gen: s.child.gen})
      s.start = null
      this.startSettled()
      return
    }
    if (start.attempts === 1 || start.attempts % 20 === 0) {
      this.log('flows', {action: 'start-retry', attempts: start.attempts, error: failure.kind ? `${failure.kind}${failure.status ? ' ' + failure.status : ''}` : failure.message})
    }
    this.timer('start-retry', POLL_LOADED_MS, id)
    this.startSettled()
  }

  /** A start in flight has answered: a fence or a shutdown waiting for it goes on. */
  private startSettled(): void {
    if (this.s.fence?.phase === 'await-start') this.fenceStop()
    else if (this.s.shutdown?.phase === 'await-start') this.shutdownStop()
  }

  /** POST /flows/state stop within stopBoundMs, or kill Node-RED (invariant 3). */
  private stopFlows(reason: string): boolean {
    const child = this.s.child
    if (!child) return false
    const id = this.nextId()
    this.s.stopOp = {id, gen: child.gen, reason, t0: this.now, killing: false}
    this.out.push({kind: 'stop-flows', gen: child.gen, id})
    this.timer('stop-bound', this.c.stopBoundMs, id)
    return true
  }

  private onStopAnswered(id: number, state: FlowsState): void {
    const s = this.s
    const op = s.stopOp
    if (!op || op.id !== id || op.killing) return
    if (state !== 'stop') return this.killForStop(op)
    s.flowsEpoch++
    s.flowsState = 'stop'
    s.stopOp = null
    this.log('flows', {action: 'stopped', reason: op.reason, ms: Math.round(this.now - op.t0)})
    this.stopDone(true)
  }

  private onStopFailed(id: number, failure: RequestFailure): void {
    const op = this.s.stopOp
    if (!op || op.id !== id || op.killing) return
    this.log('flows', {action: 'stop-failed', reason: op.reason, error: failure.kind ?? failure.message})
    this.killForStop(op)
  }

  private killForStop(op: FlowsStop): void {
    this.log('flows', {action: 'kill', reason: `Node-RED did not confirm the stop within ${this.c.stopBoundMs} ms`})
    if (!this.current(op.gen)) {
      this.s.stopOp = null
      return this.stopDone(false)
    }
    op.killing = true
    this.out.push({kind: 'kill', gen: op.gen})
  }

  /** The child of a stop that is killing has exited. */
  private exitedDuringStop(gen: number): void {
    const op = this.s.stopOp
    if (op && op.killing && op.gen === gen) {
      this.s.stopOp = null
      this.stopDone(false)
    }
  }

  private stopDone(stopped: boolean): void {
    if (this.s.handover?.phase === 'stopping') return this.handoverStopped(stopped)
    if (this.s.fence?.phase === 'stopping') {
      if (this.c.leased && stopped) {
        this.s.fence.phase = 'releasing'
        this.out.push({kind: 'release-lease', reason: this.s.fence.reason, forFence: true})
      } else this.fenceDone()
    } else if (this.s.shutdown?.phase === 'stopping') this.shutdownRelease()
  }

  // ---- fencing ----

  /**
   * Invariants 2 and 3. Stop leading now, then stop the flows, and only then release the lease. How to stop
   * depends on whether another replica may already hold the lease: if it may (the lease was taken, or it
   * expires, as others judge it, before an API stop could be confirmed: a pause), every millisecond is
   * dual-active, so Node-RED is killed at once; otherwise nobody can take over yet, and the API gets
   * stopBoundMs to confirm the stop before the kill.
   */
  private beginFence(reason: string): void {
    const s = this.s
    if (s.fence || s.shutdown) return
    // (a handover under way gives way: the fence stops the flows itself, and releases only what it holds)
    if (s.handover) this.settleHandover(false, `the lease could not be kept during the handover (${reason})`)
    const lastRenew = this.lease?.lastRenewSentAt ?? null
    this.out.push({kind: 'resign-lease', lost: true})
    this.count('fences')
    const sinceRenew = lastRenew === null ? Infinity : this.now - lastRenew
    // (not-leader: we never held it in this tenure; Node-RED is awake and answering, so the API stop is quick.)
    const mayBeTaken =
      this.c.leased &&
      reason !== 'not-leader' &&
      (reason === 'lease-lost' || reason === 'lost-while-starting' || sinceRenew + this.c.stopBoundMs >= this.c.timings.leaseDurationMs)
    const flowsMayRun = s.flowsState !== 'stop' || !!s.start?.inFlight
    const fence: Fence = {id: this.nextId(), reason, phase: 'stopping'}
    s.fence = fence
    this.setRole('fenced', {reason, sinceRenewMs: Number.isFinite(sinceRenew) ? Math.round(sinceRenew) : null})
    const child = s.child
    if (mayBeTaken && flowsMayRun && child) {
      this.log('flows', {action: 'kill', reason: `another replica may already hold the lease (${reason}, last renew ${Math.round(sinceRenew)} ms ago)`})
      this.out.push({kind: 'kill', gen: child.gen})
      fence.phase = 'killing'
      return
    }
    if (s.start?.inFlight) {
      fence.phase = 'await-start'
      this.timer('start-wait', this.c.stopBoundMs, fence.id)
      return
    }
    this.fenceStop()
  }

  private fenceStop(): void {
    const fence = this.s.fence!
    fence.phase = 'stopping'
    if (!this.stopFlows(fence.reason)) this.stopDone(true)
  }

  private fenceDone(): void {
    const s = this.s
    s.fence = null
    if (s.shutdown) {
      if (s.shutdown.phase === 'await-fence') this.shutdownLease()
      return
    }
    if (s.child?.ready) this.setRole('spare')
    else this.setRole('starting')
  }

  // ---- handover (invariant 9) ----

  private beginHandover(id: number, to: string | null): void {
    const refusal = this.handoverRefusal(to)
    if (refusal) {
      this.out.push({kind: 'handover-settled', id, ok: false, reason: refusal})
      return
    }
    // Out of the active role now (/active 503: the proxies move on); the lease is renewed until the flows
    // are confirmed stopped, so nobody may take it meanwhile.
    this.s.handover = {id, to, phase: 'stopping', t0: this.now}
    this.setRole('fenced', {reason: 'handover', to})
    if (!this.stopFlows('handover')) this.handoverStopped(false)
  }

  private handoverRefusal(to: string | null): string | undefined {
    const s = this.s
    if (!this.c.leased) return 'this mode has no lease to hand over'
    if (s.shutdown) return 'the agent is stopping'
    if (s.handover) return 'a handover is already under way'
    if (to === this.c.replica) return `cannot hand over to itself (${to})`
    if (s.role !== 'active' || !this.leading || s.flowsState !== 'start') return `it is not the active replica (it is ${s.role})`
    if (s.fence || s.start || s.stopOp) return 'its flows are starting or stopping: try again in a moment'
    return undefined
  }

  /** The flows are stopped (or could not be): hand the record over, only after a confirmed stop. */
  private handoverStopped(stopped: boolean): void {
    const h = this.s.handover!
    if (!stopped) return this.settleHandover(false, 'its flows could not be confirmed stopped')
    h.phase = 'releasing'
    this.out.push({kind: 'release-lease', reason: 'handover', forFence: false, to: h.to})
  }

  private handoverDone(released: boolean): void {
    const child = this.s.child
    this.settleHandover(released, released ? '' : 'the lease store did not take the release: the lease expires after leaseDuration')
    this.setRole(child?.ready ? 'spare' : 'starting')
  }

  /** The handover is over; from now on, and for leaseDuration, this replica does not want the lease. */
  private settleHandover(ok: boolean, reason: string): void {
    const h = this.s.handover
    if (!h) return
    this.s.handover = null
    this.s.holdOffUntil = this.now + this.c.timings.leaseDurationMs
    this.log('handover', {ok, to: h.to, ms: Math.round(this.now - h.t0), holdOffMs: this.c.timings.leaseDurationMs, ...(reason ? {reason} : {})})
    this.out.push({kind: 'handover-settled', id: h.id, ok, reason})
  }

  // ---- shutdown (invariant 8) ----

  private beginShutdown(reason: string): void {
    const s = this.s
    if (s.shutdown) return
    // The shutdown stops flows and releases the lease itself (its stop supersedes the handover's).
    if (s.handover) this.settleHandover(false, 'the agent is stopping')
    this.setRole('stopping', {reason})
    s.shutdown = {reason, phase: 'await-fence', holder: false, waitId: 0}
    if (!s.fence) this.shutdownLease()
  }

  private shutdownLease(): void {
    const s = this.s
    const sd = s.shutdown!
    if (!this.c.leased || !this.lease) return this.shutdownDrain()
    sd.holder = this.lease.holder === this.c.replica
    this.out.push({kind: 'resign-lease', lost: false})
    if (s.start?.inFlight) {
      sd.phase = 'await-start'
      sd.waitId = this.nextId()
      this.timer('start-wait', this.c.stopBoundMs, sd.waitId)
      return
    }
    this.shutdownStop()
  }

  private shutdownStop(): void {
    const s = this.s
    const sd = s.shutdown!
    sd.phase = 'stopping'
    // Stop flows first, then release: the spare may start as soon as the record is free.
    if (s.child && (sd.holder || s.flowsState !== 'stop') && this.stopFlows('shutdown')) return
    this.shutdownRelease()
  }

  private shutdownRelease(): void {
    const sd = this.s.shutdown!
    if (!sd.holder) return this.shutdownDrain()
    sd.phase = 'releasing'
    this.out.push({kind: 'release-lease', reason: 'shutdown', forFence: false})
  }

  private shutdownDrain(): void {
    const s = this.s
    if (this.c.drainMs > 0 && s.child?.ready) {
      // /healthz already answers 503 (role stopping): keep serving until the proxy has taken us out.
      s.shutdown!.phase = 'draining'
      this.log('draining', {ms: this.c.drainMs})
      this.timer('drain', this.c.drainMs, 0)
      return
    }
    this.terminate()
  }

  private terminate(): void {
    const s = this.s
    if (!s.child) return this.finish()
    s.shutdown!.phase = 'terminating'
    this.out.push({kind: 'terminate', gen: s.child.gen})
  }

  private finish(): void {
    const sd = this.s.shutdown!
    sd.phase = 'done'
    this.s.child = null
    this.out.push({kind: 'finish', reason: sd.reason})
  }
}
