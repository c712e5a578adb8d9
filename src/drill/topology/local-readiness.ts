import type {AgentStatusClient, AgentStatus} from '../../admin/agent.js'
import {pollUntil} from '../../io/poll.js'
import {agentUrl, assertAgentRunning, lastWords, type LocalReplica} from './local-replica.js'
import {modeOf, type ModeId} from '../../modes/index.js'

// When the local replicas are ready, read from their agents' /status (and /healthz in load-balanced mode,
// where every replica serves). Each wait stops at once when the agent has exited.

/** Until the agent holds a settled role (spare or active) with a Node-RED pid, and is healthy where every replica serves. */
export function waitReady(r: LocalReplica, agents: AgentStatusClient, mode: ModeId, timeoutMs: number): Promise<AgentStatus> {
  return pollUntil(
    async () => {
      assertAgentRunning(r)
      const s = await agents.status(r.name, agentUrl(r))
      if (!s || !(s.role === 'spare' || s.role === 'active') || !s.nodeRedPid) return undefined
      // every replica serves when traffic goes to every healthy one: ready means healthy too
      return modeOf(mode).traffic.to === 'every-healthy' ? ((await agents.healthy(agentUrl(r))) ? s : undefined) : s
    },
    {timeoutMs, intervalMs: 100, what: `${r.name} ready (spare or active, with a Node-RED)`, detail: () => lastWords(r), replica: r.name},
  )
}

/**
 * Single-active modes (hot-spare): until exactly one replica is active and every other is a spare with its flows stopped. Right
 * after boot the winner starts its flows a moment before it reports active, and deploy's preflight rightly
 * refuses a "spare" whose flows run.
 */
export async function waitSettled(replicas: LocalReplica[], agents: AgentStatusClient, timeoutMs: number): Promise<void> {
  await pollUntil(
    async () => {
      const views = await Promise.all(replicas.map(r => agents.status(r.name, agentUrl(r))))
      const actives = views.filter(v => v?.role === 'active')
      return actives.length === 1 && views.every(v => v?.role === 'active' || (v?.role === 'spare' && v.flowsState === 'stop'))
    },
    {timeoutMs, intervalMs: 100, what: 'the replicas settled into one active and spares'},
  )
}

/** Single-active modes, after a recovery: until the replica no longer claims the lease (a spare, or the active). */
export async function waitSpareOrActive(r: LocalReplica, agents: AgentStatusClient, timeoutMs: number): Promise<void> {
  await pollUntil(
    async () => {
      const role = (await agents.status(r.name, agentUrl(r)))?.role
      return role === 'spare' || role === 'active'
    },
    {timeoutMs, intervalMs: 100, what: `${r.name} back as a spare`, replica: r.name},
  )
}
