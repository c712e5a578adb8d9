// Roles: what an agent says it is (GET /status, its role log line, the ff_ha_agent_role metric), and what a
// deploy treats a replica as.

export const AGENT_ROLES = ['starting', 'spare', 'active', 'fenced', 'stopping'] as const
export type AgentRole = (typeof AGENT_ROLES)[number]

export function isAgentRole(value: unknown): value is AgentRole {
  return typeof value === 'string' && (AGENT_ROLES as readonly string[]).includes(value)
}

/** A deploy's view: hot-spare replicas are the active or a spare; every load-balanced replica is a member. */
export const DEPLOY_ROLES = ['active', 'spare', 'member'] as const
export type DeployRole = (typeof DEPLOY_ROLES)[number]
