import type {FlowsState} from '../admin/types.js'

export type Role = 'starting' | 'spare' | 'active' | 'fenced' | 'stopping'
export const ROLES: Role[] = ['starting', 'spare', 'active', 'fenced', 'stopping']

/** GET /status: the documented shape (the failover drill and the renderer's probes read it). */
export interface AgentStatus {
  replica: string
  mode: 'hot-spare' | 'load-balanced'
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
