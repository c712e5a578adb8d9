import type {AgentStatus} from '../../admin/agent.js'
import type {FlowNode} from '../../admin/types.js'
import type {ObservedReplica} from '../observer.js'
import type {DrillTarget, RoleEvent, ScenarioName} from '../types.js'
import type {ModeId} from '../../modes/index.js'

/** What the agent's GET /status says (admin/agent.ts reads it for deploy and the drill alike). */
export type AgentView = AgentStatus

/** A fault that has been applied, to be lifted later where the scenario lifts it. */
export interface AppliedFault {
  scenario: ScenarioName
  replica: string
  /** Undo a pause or a cut link (freeze, partition). */
  heal?: () => Promise<void>
  /** The Node-RED process the fault killed or stopped (crash, replica-crash, hang, freeze). */
  nodeRedPid?: number
  /** When the fault lifted itself before applyFault returned (a timed etcd outage). */
  healedAt?: number
  /**
   * Keep watching until then before the iteration ends, even if clients never failed: a fault to the lease
   * store (etcd) shows, if at all, only after a renew deadline or a lease has passed.
   */
  observeUntil?: number
}

// A set-up the drill runs against: the local processes it started, or a Compose / Kubernetes set-up it
// attached to. The measuring code (traffic, observer, metrics, reports) is the same for all.
export interface Topology {
  target: DrillTarget
  mode: ModeId
  replicas: ObservedReplica[]
  /** The probe URL through the proxy / load balancer. */
  probeUrl: string
  /** The probe's shared-context writes (hot-spare with the shared store), through the proxy. */
  probeWritesUrl?: string
  proxy: string
  /** The MQTT broker URL for the drill's own clients, or undefined when MQTT is off. */
  mqttUrl?: string
  broker: string
  /** The lease the agents hold, where the drill chose it (the hosts target). */
  lease?: string
  /** The run id the probe's MQTT topics carry. */
  runId: string
  /** Admin token for /flows/state (the observer). */
  token?: string
  /** The agents' status token for their /status (the observer), when they have one. */
  statusToken?: string
  /** Role changes logged by the agents (local target only: their stdout). */
  roleEvents: RoleEvent[]
  /** The agents' /status, by replica (undefined: no answer). */
  statuses(): Promise<Map<string, AgentView | undefined>>
  /** Why this scenario cannot run here, or undefined. */
  unsupported(scenario: ScenarioName): string | undefined
  applyFault(scenario: Exclude<ScenarioName, 'deploy'>, replica: string): Promise<AppliedFault>
  /** Bring the faulted replica back (restart what the fault stopped for good) and wait until it is a spare / healthy again. */
  recover(fault: AppliedFault): Promise<void>
  /** Deploy the next generation of the drill's flows under traffic (the deploy scenario). */
  deployNext(): Promise<void>
  /** The replicas' flows for the cold-start baseline: the same nodes, with an MQTT client id of its own
   * (a cold start with the hot-spare's fixed id would knock the active off the broker). */
  baselineFlows(): FlowNode[]
  close(): Promise<void>
}
