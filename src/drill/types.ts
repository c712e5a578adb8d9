import type {AgentRole} from '../model/roles.js'
import type {ModeId} from '../modes/index.js'
// The data that a drill records and reports. Times are epoch milliseconds with sub-ms precision
// (performance.timeOrigin + performance.now()), so that every source shares one clock.

// crash: Node-RED alone dies (its agent sees it and releases the lease). replica-crash: the whole replica
// dies at once, agent and Node-RED (a container killed, a host lost): nobody releases the lease, so the
// takeover waits for it to expire; that is the fault users meet most. host-loss: the replica's host lost at
// once (agent, Node-RED and its etcd member killed, its network cut; --target hosts).
// The etcd-* scenarios break the lease store, not a replica (--target hosts): its leader killed, one member
// cut off, the whole cluster unreachable for less than the renew deadline (the holder keeps leading) or for
// longer than that but less than the lease (it must stop; nobody can take over meanwhile). src/drill/targets.ts says, per target,
// which of them run there and why the others cannot.
export const FAULT_CLASSES = ['crash', 'replica-crash', 'hang', 'freeze', 'partition', 'host-loss', 'graceful', 'deploy'] as const
export const ETCD_FAULTS = ['etcd-leader-kill', 'etcd-member-partition', 'etcd-outage', 'etcd-outage-long'] as const
export type ScenarioName = (typeof FAULT_CLASSES)[number] | (typeof ETCD_FAULTS)[number]
export type EtcdFault = (typeof ETCD_FAULTS)[number]
export const ALL_SCENARIOS: ScenarioName[] = [...FAULT_CLASSES, ...ETCD_FAULTS]
export const isEtcdFault = (s: ScenarioName): s is EtcdFault => (ETCD_FAULTS as readonly string[]).includes(s)

export type Role = AgentRole

/** One observation of one replica by the observer (every 20 ms). */
export interface Sample {
  t: number
  replica: string
  /** The agent's /status role; undefined when the agent did not answer. */
  role?: Role
  leaseHolder?: string | null
  fencingToken?: number
  /** Node-RED's GET /flows/state; undefined when Node-RED did not answer. */
  flowsState?: 'start' | 'stop' | 'safe'
  /** The Node-RED process the agent supervises, from its /status. */
  nodeRedPid?: number
}

/** A role change that an agent logged on stdout (its own clock, the same host). */
export interface RoleEvent {
  t: number
  replica: string
  role: Role
}

export interface HttpRecord {
  /** When the request was sent. */
  t: number
  latencyMs: number
  /** HTTP status; 0 when no answer (refused, reset, timeout). */
  status: number
  ok: boolean
  /** The replica that answered (from the probe's body). */
  replica?: string
  seq?: number
  error?: string
}

export interface MqttRecord {
  seq: number
  /** When it was published (broker acked at pubackAt). */
  t: number
  pubackAt?: number
  /** Every echo of it: time and the replica that echoed. */
  echoes: {t: number; replica: string}[]
}

export interface FaultMark {
  scenario: ScenarioName
  /** The replica the fault hit. */
  replica: string
  /** When the fault was applied. */
  at: number
  /** When it was lifted (SIGCONT, link up), if it was. */
  healedAt?: number
  /** The Node-RED process the fault killed or stopped, when the target knew it. */
  nodeRedPid?: number
}

/** Everything recorded in one iteration: what metrics and reports are computed from. */
export interface IterationTimeline {
  mode: ModeId
  replicas: string[]
  start: number
  end: number
  fault: FaultMark
  samples: Sample[]
  roleEvents: RoleEvent[]
  http: HttpRecord[]
  /** Undefined when MQTT traffic was off. */
  mqtt?: MqttRecord[]
  /** The probe's fenced writes in the shared context store during the iteration (hot-spare with it). */
  sharedContext?: {log: string[]; refused: number}
}

export interface IterationMetrics {
  iteration: number
  /** The replica the fault hit. */
  faulted: string
  /** Fault to the lease being released or seen expired (hot-spare); to the faulted replica leaving service (load-balanced). */
  detectionMs: number | null
  /** Fault to the first success after the last failure, as a client sees it; 0 when nothing failed. */
  mttrMs: number
  /** First failed request to the first success after the last failure. */
  unavailableMs: number
  httpSent: number
  httpFailed: number
  mqttSent: number
  mqttLost: number
  /**
   * Of those, the ones published after the faulted replica had stopped running flows. Messages it had
   * already received can be lost by design: Node-RED's MQTT client acknowledges a message when it
   * arrives, before the flow has handled it. A message published after it stopped must reach the next
   * active (the broker queues it for the session): that loss is the one the broker guarantees against.
   */
  mqttLostAfterStop: number
  mqttDuplicated: number
  /** Time with more than one replica running flows (hot-spare only; load-balanced: 0). */
  dualActiveMs: number
  /** The replica that was active after the fault (hot-spare), or null. */
  newActive: string | null
  /**
   * The shared context store (hot-spare with it): the probe's accepted writes, those of the faulted replica
   * accepted after another replica's first (must be 0: the fence), and the writes the fence refused.
   */
  sharedContext?: {writes: number; staleWrites: number; refused: number}
  /** Problems that make this iteration's figures doubtful (never silently dropped). */
  notes: string[]
}

export interface Summary {
  p50: number | null
  p95: number | null
  max: number | null
}

export interface ScenarioResult {
  name: ScenarioName
  iterations: IterationMetrics[]
  mttrMs: Summary
  detectionMs: Summary
  httpFailed: number
  mqttLost: number
  mqttLostAfterStop: number
  mqttDuplicated: number
  dualActiveMs: number
  /** mttr p50 / cold start. */
  ratioToColdStart: number | null
  passed: boolean
  /** Why this scenario did not run (not root, not supported by the target). */
  skipped?: string
  /** SLO misses, each naming the figure and the limit. */
  failures: string[]
  /** The timelines, for the HTML report (left out of --json). */
  timelines?: IterationTimeline[]
}

/** Whether a scenario ran in this drill, was not asked for, or cannot run on the target (and why). */
export interface FaultClassCoverage {
  name: ScenarioName
  status: 'ran' | 'skipped' | 'not requested' | 'unsupported'
  /** Why it was skipped or cannot run here. */
  why?: string
}

export type DrillTarget = 'local' | 'hosts' | 'compose' | 'kubernetes'

export interface DrillReport {
  target: DrillTarget
  mode: ModeId
  /** Which proxy routed the traffic: haproxy (with its version), builtin, or external (attached targets). */
  proxy: string
  /** The broker: mosquitto on a port, the profile's URL, or "off: <reason>". */
  broker: string
  /** The lease the agents held, where the drill chose it (the hosts target: etcd on its members). */
  lease?: string
  baseline: {coldStartMs: number | null}
  slo: {maxMttrMs: number; maxLostMessages: number; maxDualActiveMs: number}
  scenarios: ScenarioResult[]
  /** Every fault class (and the target's own scenarios), in FAULT_CLASSES order: ran, or why not. */
  faultClasses: FaultClassCoverage[]
  passed: boolean
  startedAt: string
  durationMs: number
}
