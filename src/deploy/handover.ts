// The handover step of a hot-spare deploy (strategy handover; docs/design/handover-deploy.md). The spares
// already run the new flows, stopped. Here: pick an updated spare (its rev read again through the admin API
// just before), ask the active's agent to hand the lease to it (POST /handover: the agent stops its flows,
// then writes the lease record to that spare), and wait until that spare's agent says active, its flows
// started and /active 200 (what the proxies ask). Undo: ask whoever took the lease to hand it back, and wait
// for the old active, which still runs the old flows, to be active again.
import {performance} from 'node:perf_hooks'
import {agentActive, getAgentStatus, requestHandover, type HandoverReply} from '../admin/agent.js'
import type {AdminClient} from '../admin/client.js'
import {errorMessage} from '../errors.js'
import {shortRev} from './rev.js'

/** A replica as the handover sees it. */
export interface Party {
  name: string
  client: AdminClient
  agentUrl?: string
  /** The agent's own name (its lease identity), from its /status. */
  agentReplica?: string
}

/** What the --json report says about the handover. */
export interface HandoverReport {
  /** The active before the deploy. */
  from: string
  /** The updated spare it handed the lease to (null: none was asked, the handover was refused first). */
  to: string | null
  /** From the request to the new active serving (or to the failure). */
  ms: number
  /** The handover failed after the active had stopped its flows, and the lease was handed back. */
  undone?: boolean
}

export type Outcome = {ok: true; to: string; ms: number} | {ok: false; to: string | null; ms: number; error: string; changedActive: boolean}

const AGENT_TIMEOUT_MS = 3000

/** Why this set of replicas cannot hand over (the deploy then refuses, or deploys in place by default). */
export function handoverObstacle(active: Party, spares: Party[], statusToken: string | undefined): string | undefined {
  if (!active.agentUrl) return `${active.name} has no agent URL: only an ff-ha agent hands its lease over`
  if (spares.length === 0) return 'there is no spare to hand over to'
  if (!spares.some(s => s.agentUrl)) return 'no spare has an agent URL'
  if (!statusToken) return 'no status token (FF_HA_STATUS_TOKEN, or secrets.statusTokenEnv): the agents refuse a handover without one'
  return undefined
}

/** Ask the active's agent, changing nothing, whether it would hand over now. Undefined: yes. */
export async function handoverRefusal(active: Party, statusToken: string | undefined): Promise<{message: string; fallback: boolean} | undefined> {
  let reply: HandoverReply
  try {
    reply = await requestHandover(active.name, active.agentUrl!, {dryRun: true}, statusToken, AGENT_TIMEOUT_MS)
  } catch (err) {
    return {message: errorMessage(err), fallback: false}
  }
  if (reply.status === 200) return undefined
  // 403: that agent has no status token, so it cannot hand over at all (as when the deploy has none)
  return {message: `${active.name}: agent POST /handover: HTTP ${reply.status}${reply.error ? `, ${reply.error}` : ''}`, fallback: reply.status === 403}
}

/** Hand the lease from `active` to the first of `spares` that runs `rev` stopped; wait until it serves. */
export async function handOver(active: Party, spares: Party[], rev: string, statusToken: string | undefined, timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now()
  const ms = () => Math.round(performance.now() - t0)
  const problems: string[] = []
  let target: Party | undefined
  for (const spare of spares.filter(s => s.agentUrl)) {
    const problem = await unfit(spare, rev, statusToken)
    if (!problem) {
      target = spare
      break
    }
    problems.push(problem)
  }
  if (!target) return {ok: false, to: null, ms: ms(), error: `no spare can take the lease: ${problems.join('; ')}`, changedActive: false}
  let reply: HandoverReply
  try {
    reply = await requestHandover(active.name, active.agentUrl!, {to: target.agentReplica ?? target.name, timeoutMs}, statusToken, timeoutMs + 5000)
  } catch (err) {
    // No answer: the agent may or may not have begun. Treat it as changed, so that the caller undoes.
    return {ok: false, to: target.name, ms: ms(), error: `handover to ${target.name}: ${errorMessage(err)}`, changedActive: true}
  }
  if (reply.status !== 200 || !reply.handedOver) {
    return {ok: false, to: target.name, ms: ms(), error: `${active.name} refused the handover to ${target.name}: ${reply.error ?? `HTTP ${reply.status}`}`, changedActive: false}
  }
  // Any updated spare that took the lease will do (all of them run the new flows); the named one normally does.
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    const candidates: Party[] = [target, ...spares.filter(s => s !== target && s.agentUrl)]
    for (const spare of candidates) {
      const serving = await servingRev(spare, rev, statusToken)
      if (serving === true) return {ok: true, to: spare.name, ms: ms()}
      if (spare === target) last = serving
    }
    await new Promise(r => setTimeout(r, 25))
  }
  return {ok: false, to: target.name, ms: ms(), error: `${target.name} did not become active with rev ${shortRev(rev)} within ${timeoutMs} ms after ${active.name} handed over (${last})`, changedActive: true}
}

/**
 * Undo a handover that did not end with an updated spare serving: whoever is active now (a spare) hands the
 * lease back to `active`; then wait for `active` to be active again. It still runs the old flows, and it
 * takes the lease back once its hold-off (leaseDuration after it handed over) has passed.
 */
export async function handBack(active: Party, spares: Party[], statusToken: string | undefined, timeoutMs: number): Promise<{ok: boolean; detail: string}> {
  const deadline = Date.now() + timeoutMs
  const askedBack = new Set<string>()
  while (Date.now() < deadline) {
    const mine = await getAgentStatus(active.name, active.agentUrl!, AGENT_TIMEOUT_MS, statusToken).catch(() => undefined)
    if (mine?.role === 'active' && (await agentActive(active.agentUrl!))) return {ok: true, detail: `${active.name} is active again`}
    for (const spare of spares.filter(s => s.agentUrl && !askedBack.has(s.name))) {
      const s = await getAgentStatus(spare.name, spare.agentUrl!, AGENT_TIMEOUT_MS, statusToken).catch(() => undefined)
      if (s?.role !== 'active') continue
      askedBack.add(spare.name)
      await requestHandover(spare.name, spare.agentUrl!, {to: active.agentReplica ?? active.name, timeoutMs: 0}, statusToken, AGENT_TIMEOUT_MS).catch(() => undefined)
    }
    await new Promise(r => setTimeout(r, 50))
  }
  return {ok: false, detail: `${active.name} did not become active again within ${timeoutMs} ms`}
}

/**
 * After the handover, wait until the old active's agent says spare with a Node-RED that answers: when its
 * flows did not stop within the agent's bound it was killed and is restarting (the deploy to it would find
 * nothing listening). False when it is not back within `timeoutMs` (the deploy to it then says why).
 */
export async function waitSpare(party: Party, statusToken: string | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const s = await getAgentStatus(party.name, party.agentUrl!, AGENT_TIMEOUT_MS, statusToken).catch(() => undefined)
    if (s?.role === 'spare' && (await party.client.ping(AGENT_TIMEOUT_MS))) return true
    await new Promise(r => setTimeout(r, 50))
  }
  return false
}

/** Why `spare` must not take the lease now, or undefined: it runs `rev`, stopped, and its agent says spare. */
async function unfit(spare: Party, rev: string, statusToken: string | undefined): Promise<string | undefined> {
  try {
    const [flows, state, agent] = await Promise.all([spare.client.getFlows(), spare.client.getFlowsState(), getAgentStatus(spare.name, spare.agentUrl!, AGENT_TIMEOUT_MS, statusToken)])
    if (flows.rev !== rev) return `${spare.name} runs rev ${shortRev(flows.rev)}, not ${shortRev(rev)}`
    if (state !== 'stop') return `${spare.name}'s flows are ${state}`
    if (agent.role !== 'spare') return `${spare.name}'s agent says ${agent.role}`
    return undefined
  } catch (err) {
    return errorMessage(err)
  }
}

/** true when `party` is active, serving (its /active 200) and runs `rev`; else what it is instead. */
async function servingRev(party: Party, rev: string, statusToken: string | undefined): Promise<true | string> {
  try {
    const agent = await getAgentStatus(party.name, party.agentUrl!, AGENT_TIMEOUT_MS, statusToken)
    if (agent.role !== 'active' || agent.flowsState !== 'start') return `its agent says ${agent.role}, flows ${agent.flowsState ?? '-'}`
    if (!(await agentActive(party.agentUrl!))) return 'its /active is not 200 yet'
    const flows = await party.client.getFlows()
    return flows.rev === rev ? true : `it is active with rev ${shortRev(flows.rev)}`
  } catch (err) {
    return errorMessage(err)
  }
}
