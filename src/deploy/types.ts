import type {AdminClientOptions} from '../admin/client.js'
import type {DeployRole} from '../model/roles.js'
import type {AdminAuth, Credentials, FlowNode, FlowsState, ReplicaTarget} from '../admin/types.js'
import type {Progress} from '../output/progress.js'
import type {HaMode} from '../profile/schema.js'
import type {NodeChanges} from './diff.js'
import type {HandoverReport} from './handover.js'

export type DeployStatus = 'deployed' | 'unchanged' | 'rolled-back' | 'failed'
export type {DeployStrategy as Strategy} from '../modes/types.js'
import type {DeployStrategy as Strategy} from '../modes/types.js'
/** What a replica is for this deploy: hot-spare active or spare, or a load-balanced member. */

export type {DeployRole}

export interface RevState {
  rev: string | null
  state: FlowsState | null
}

/** One replica in the --json contract. */
export interface ReplicaReport {
  name: string
  url: string
  before: RevState
  after: RevState
  status: DeployStatus
  durationMs: number
  error?: string
  /** Beyond the contract: the role the deploy gave it, and (--dry-run) what would change. */
  role?: DeployRole
  changes?: NodeChanges
}

/** The --json contract of `ff-ha deploy`: {rev, replicas, durationMs}, plus ok/error/mode/strategy/dryRun. */
export interface DeployReport {
  /** The revision of the flows file (sha256 of the flows without credentials, as Node-RED computes it). */
  rev: string
  replicas: ReplicaReport[]
  durationMs: number
  ok: boolean
  /** One line: why the deploy was refused or failed. */
  error?: string
  /** What to do about it, when known. */
  hint?: string
  mode: HaMode
  /** The strategy that ran (in-place when a default handover could not be done: `note` says why). */
  strategy: Strategy
  dryRun: boolean
  /** strategy handover: who handed the lease to whom, how long until the new active served. */
  handover?: HandoverReport
  /** Something the user should know that is not an error (why a default handover was not done). */
  note?: string
}

export interface DeployHooks {
  /** After every replica passed preflight, before anything is posted (tests use it to race a deploy). */
  afterPreflight?: () => void | Promise<void>
  /** After a replica's deploy step settled. */
  afterReplica?: (name: string, status: DeployStatus) => void | Promise<void>
}

export interface DeployOptions {
  flows: FlowNode[]
  replicas: ReplicaTarget[]
  auth: AdminAuth
  /** The agents' status token, for their /status (secrets.statusTokenEnv), when they have one. */
  statusToken?: string
  mode: HaMode
  /** Load-balanced: rolling (default) or parallel. Hot-spare: handover (default), in-place, parallel, rolling. */
  strategy?: Strategy
  type?: 'full' | 'flows' | 'nodes'
  /** Rolling: how many replicas may be deploying at once (default 1). */
  maxUnavailable?: number
  credentials?: Credentials
  /** Deploy over a change made since preflight (sends no rev, so no 409). */
  force?: boolean
  /** Roll back the replicas already changed when one fails (default true). */
  rollback?: boolean
  dryRun?: boolean
  progress?: Progress
  clientOptions?: Omit<AdminClientOptions, 'auth'>
  /** Bound on waiting for a replica to report the new rev and its state (default 30 s). */
  verifyTimeoutMs?: number
  hooks?: DeployHooks
}
