import type {FlowsState} from '../admin/types.js'
import {AGENT_ROLES, type AgentRole} from '../model/roles.js'
import type {ModeId} from '../modes/index.js'

/** The agent's roles are the model's (src/model/roles.ts); these names stay for the agent's own modules. */
export type Role = AgentRole
export const ROLES: readonly Role[] = AGENT_ROLES

/** GET /status: the documented shape (the failover drill and the renderer's probes read it). */
export interface AgentStatus {
  replica: string
  mode: ModeId
  role: Role
  leaseHolder: string | null
  fencingToken: number | null
  /** Epoch ms, as this agent judges it (its monotonic clock since it last saw the record change). */
  leaseExpiresAt: number | null
  nodeRedPid: number | null
  flowsState: FlowsState | null
  rev: string | null
  restarts: number
  /** Epoch ms of the last role change. */
  since: number
}

export interface Health {
  ok: boolean
  reason?: string
}
