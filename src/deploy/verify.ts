import {agentHealthy} from '../admin/agent.js'
import type {AdminClient} from '../admin/client.js'
import type {FlowsState} from '../admin/types.js'
import {CheckFailedError, errorMessage} from '../errors.js'
import {PollTimeoutError, pollUntil} from '../io/poll.js'
import type {RevState} from './types.js'

export interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  /** Also require a health check to pass (rolling deploys). */
  health?: boolean
  /** A spare that shows `start` is a failure at once, not something to wait out. */
  failOnStart?: boolean
  /**
   * The replica already reported `rev` (the answer to our POST, computed by Node-RED from what it saved,
   * equal to the rev of the file): poll only the cheap GET /flows/state, not the whole flows.
   */
  revReported?: boolean
}

/**
 * POST /flows answers before the new flows have started, so confirm, within a bound: poll GET /flows/state
 * (and GET /flows for the rev, unless the POST's answer already gave it) until the replica runs `rev` in one
 * of `states`; for `start`, wait for Node-RED's runtime-deploy notification too; then the health check.
 */
export async function waitForRevAndState(client: AdminClient, rev: string, states: FlowsState[], options: WaitOptions): Promise<RevState> {
  const deadline = Date.now() + options.timeoutMs
  let seen: RevState = {rev: null, state: null}
  let lastError: unknown
  const check = async (): Promise<RevState | undefined> => {
    try {
      const [flowsRev, state] = await Promise.all([options.revReported ? rev : client.getFlows().then(f => f.rev), client.getFlowsState()])
      seen = {rev: flowsRev, state}
      lastError = undefined
      if (options.failOnStart && state === 'start') throw new SpareStartedError(`${client.name}: a spare started its flows`)
      if (seen.rev === rev && states.includes(state)) {
        // `start` is reported as starting begins; Node-RED's runtime-deploy event says it has finished
        // (retained: a second wait for the same rev returns at once).
        if (state === 'start') await client.waitForFlowsStarted(rev, Math.max(1000, deadline - Date.now()))
        if (!options.health || (await healthy(client))) return seen
      }
    } catch (err) {
      if (err instanceof SpareStartedError) throw err
      lastError = err
    }
    return undefined
  }
  try {
    return await pollUntil(check, {
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs ?? 50,
      what: `${client.name} reporting rev ${rev.slice(0, 8)} in state ${states.join('|')}${options.health ? ' and passing its health check' : ''}`,
      detail: () => `it reports rev ${seen.rev?.slice(0, 8) ?? '-'}, ${seen.state ?? '-'}`,
      replica: client.name,
    })
  } catch (err) {
    // the replica's own error (unreachable, 401) says more than "not within"
    if (err instanceof PollTimeoutError && lastError) throw lastError
    throw err
  }
}

/** A spare started its flows during a deploy: hot-spare's one forbidden state, handled apart by the deploy. */
export class SpareStartedError extends CheckFailedError {}

async function healthy(client: AdminClient): Promise<boolean> {
  return client.replica.agentUrl ? agentHealthy(client.replica.agentUrl) : client.ping(2000)
}

/** What a replica runs now, or nulls and the reason when it cannot be asked. */
export async function observe(client: AdminClient): Promise<RevState & {error?: string}> {
  try {
    const [flows, state] = await Promise.all([client.getFlows(), client.getFlowsState()])
    return {rev: flows.rev, state}
  } catch (err) {
    return {rev: null, state: null, error: errorMessage(err)}
  }
}
