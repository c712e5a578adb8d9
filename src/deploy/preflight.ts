import {getAgentStatus, type AgentRole} from '../admin/agent.js'
import type {AdminClient} from '../admin/client.js'
import type {FlowNode, FlowsState} from '../admin/types.js'
import {errorMessage} from '../errors.js'
import type {HaMode} from '../profile/schema.js'
import type {DeployRole} from './types.js'
import {modeOf} from '../modes/index.js'

/** What one replica runs before the deploy, read without changing anything. */
export interface Preflight {
  rev: string
  flows: FlowNode[]
  state: FlowsState
  stateApiEnabled: boolean
  agentRole?: AgentRole
  /** The name the agent goes by (its lease identity), which a handover names. */
  agentReplica?: string
}

export async function preflightReplica(client: AdminClient, agentTimeoutMs = 3000, statusToken?: string): Promise<Preflight> {
  // All at once (one round trip, not four); when several fail, GET /flows's error is the one to show: it
  // says unreachable or unauthorized before anything else does.
  const results = await Promise.allSettled([
    client.getFlows(),
    client.getFlowsState(),
    client.runtimeStateEnabled(),
    client.replica.agentUrl ? getAgentStatus(client.name, client.replica.agentUrl, agentTimeoutMs, statusToken) : Promise.resolve(undefined),
  ] as const)
  const failed = results.find(r => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  const [flows, state, stateApiEnabled, agent] = results.map(r => (r as PromiseFulfilledResult<unknown>).value) as [
    {flows: FlowNode[]; rev: string},
    FlowsState,
    boolean,
    Awaited<ReturnType<typeof getAgentStatus>> | undefined,
  ]
  return {rev: flows.rev, flows: flows.flows, state, stateApiEnabled, agentRole: agent?.role, ...(typeof agent?.replica === 'string' ? {agentReplica: agent.replica} : {})}
}

/**
 * Hot-spare: the agent decides who is active when there is one (its lease); without an agent the flows
 * state does (start = active, stop or safe = spare). Load-balanced: every replica is a member.
 */
export function roleOf(mode: HaMode, p: Preflight): DeployRole {
  if (!modeOf(mode).deploy.roles) return 'member'
  if (p.agentRole) return p.agentRole === 'active' ? 'active' : 'spare'
  return p.state === 'start' ? 'active' : 'spare'
}

/** The flows states a replica may be in after the deploy. */
export function expectedStates(role: DeployRole, p: Preflight): FlowsState[] {
  // A spare must never run flows. Anyone else keeps its state; a deploy to a safe-mode runtime starts it.
  if (role === 'spare') return ['stop']
  return p.state === 'safe' ? ['start'] : [p.state]
}

/** Why a replica must not be deployed to, or undefined. Says how to fix it. */
export function preflightProblem(mode: HaMode, role: DeployRole, p: Preflight): string | undefined {
  if (!p.stateApiEnabled) return 'the runtime state API is disabled: set runtimeState: {enabled: true} in settings.js (ff-ha render does)'
  if (p.agentRole === 'stopping') return 'its agent is stopping: run the deploy again when it is back'
  if (!modeOf(mode).singleActive || role !== 'spare') return undefined
  if (p.state === 'safe') {
    return 'is a spare in safe mode (--safe): a deploy would start its flows; restart it without --safe (the persisted stop state keeps a spare stopped)'
  }
  if (p.state === 'start') return `its agent says ${p.agentRole} but its flows run: two replicas may be active; check the agents before deploying`
  return undefined
}

/** Hot-spare allows one active replica at most. */
export function activesProblem(mode: HaMode, actives: string[]): string | undefined {
  if (modeOf(mode).singleActive && actives.length > 1) {
    return `${mode}: ${actives.length} replicas run flows (${actives.join(', ')}), at most one may; stop all but one (POST /flows/state stop) or let the agents decide, or pass --mode load-balanced if all should run flows`
  }
  return undefined
}

export function describeFailure(err: unknown): string {
  return errorMessage(err)
}
