import {pollUntil} from '../io/poll.js'
import {now, sleep} from './clock.js'
import {startObserver} from './observer.js'
import {readProbeWrites, writesBetween} from './shared-context.js'
import {startHttpTraffic, type HttpTraffic} from './traffic/http.js'
import type {MqttTraffic} from './traffic/mqtt.js'
import type {AgentView, AppliedFault, Topology} from './topology/types.js'
import type {IterationTimeline, ScenarioName} from './types.js'
import {modeOf} from '../modes/index.js'

// One iteration of one scenario: wait for a steady set-up, start traffic and the observer, break the
// replica, wait until clients are served again (lifting the fault where the scenario lifts it), stop,
// and hand back the recorded timeline. The same code drives every target.

export interface IterationOptions {
  rate: number
  mqtt?: MqttTraffic
  /** Traffic before the fault. */
  warmupMs?: number
  /** Traffic after recovery. */
  settleMs?: number
  /** Give up waiting for recovery after this long. */
  recoveryTimeoutMs?: number
  /** Load-balanced: which replica to break (round-robin by iteration). */
  iteration: number
}

export async function runIteration(topology: Topology, scenario: ScenarioName, options: IterationOptions): Promise<IterationTimeline> {
  const mode = topology.mode
  const steady = await waitSteady(topology, 90_000)
  const names = topology.replicas.map(r => r.name)
  const victim = modeOf(mode).drill.victim === 'the-active' ? steady.active! : names[(options.iteration - 1) % names.length]
  const writesBefore = topology.probeWritesUrl ? await readProbeWrites(topology.probeWritesUrl) : undefined
  const start = now()
  const eventsFrom = topology.roleEvents.length
  const observer = startObserver(topology.replicas, {token: topology.token, statusToken: topology.statusToken})
  const http = startHttpTraffic({url: topology.probeUrl, rate: options.rate})
  options.mqtt?.begin()
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 30_000
  let faultAt = 0
  let healedAt: number | undefined
  let failure: unknown
  let applied: AppliedFault | undefined
  try {
    await sleep(options.warmupMs ?? 700)
    faultAt = now()
    if (scenario === 'deploy') {
      await topology.deployNext()
      await waitServed(http, faultAt, recoveryTimeoutMs)
    } else {
      const fault = await topology.applyFault(scenario, victim)
      applied = fault
      if (fault.heal) {
        if (scenario === 'hang') {
          // the agent kills the hung Node-RED; SIGCONT only after the iteration (recover) if it did not
          await waitServed(http, faultAt, recoveryTimeoutMs)
        } else {
          // freeze / partition: wait until another replica took over and clients are served, then lift it
          await waitTakeover(topology, victim, recoveryTimeoutMs)
          await waitServed(http, faultAt, recoveryTimeoutMs)
          await sleep(300)
          healedAt = now()
          await fault.heal()
          // hot-spare: the old active must fence itself: wait until its agent no longer says active.
          // load-balanced: every replica is active by design and there is no lease to fence with.
          if (modeOf(mode).singleActive) await pollUntil(async () => {
            const s = (await topology.statuses()).get(victim)
            return s !== undefined && s.role !== 'active'
          }, {timeoutMs: recoveryTimeoutMs, what: `${victim} no longer claiming to be active after the ${scenario} was lifted`, replica: victim}).catch(err => {
            failure = err
          })
        }
      } else {
        await waitServed(http, faultAt, recoveryTimeoutMs)
      }
      if (fault.healedAt !== undefined) healedAt = fault.healedAt
      if (fault.observeUntil !== undefined && fault.observeUntil > now()) await sleep(fault.observeUntil - now())
      if (fault.heal && scenario === 'hang') await fault.heal()
      await sleep(options.settleMs ?? 600)
      const timeline = await finish()
      await topology.recover(fault)
      if (failure) throw failure
      return timeline
    }
    await sleep(options.settleMs ?? 600)
    return await finish()
  } catch (err) {
    await finish().catch(() => undefined)
    // leave the set-up usable for the next scenario: lift the fault and bring the replica back
    if (applied) {
      await applied.heal?.().catch(() => undefined)
      await topology.recover(applied).catch(() => undefined)
    }
    throw err
  }

  async function finish(): Promise<IterationTimeline> {
    await http.stop()
    const mqtt = options.mqtt ? await options.mqtt.end() : undefined
    const samples = await observer.stop()
    const sharedContext = topology.probeWritesUrl ? writesBetween(writesBefore, await readProbeWrites(topology.probeWritesUrl)) : undefined
    return {
      mode,
      replicas: names,
      start,
      end: now(),
      fault: {scenario, replica: scenario === 'deploy' ? (steady.active ?? names[0]) : victim, at: faultAt, ...(healedAt ? {healedAt} : {}), ...(applied?.nodeRedPid ? {nodeRedPid: applied.nodeRedPid} : {})},
      samples,
      roleEvents: topology.roleEvents.slice(eventsFrom),
      http: http.records,
      mqtt,
      ...(sharedContext ? {sharedContext} : {}),
    }
  }
}

/** Hot-spare: exactly one active and the others spares; load-balanced: every agent answers and none is stopping. */
export async function waitSteady(topology: Topology, timeoutMs: number): Promise<{active?: string; statuses: Map<string, AgentView | undefined>}> {
  let last = ''
  return pollUntil(
    async () => {
      const statuses = await topology.statuses()
      const roles = [...statuses.entries()].map(([n, s]) => `${n}=${s?.role ?? 'no answer'}`)
      last = roles.join(', ')
      const views = [...statuses.values()]
      if (views.some(v => v === undefined)) return undefined
      if (!modeOf(topology.mode).singleActive) return views.every(v => v!.role === 'active' || v!.role === 'spare') ? {statuses} : undefined
      const actives = [...statuses.entries()].filter(([, s]) => s?.role === 'active')
      const spares = views.filter(v => v!.role === 'spare')
      // and every spare sees the active as the holder: a spare with a stale view (its store unreachable, an
      // etcd member catching up) is not ready to take over, and its view would pass for a detection
      const agreed = spares.every(v => v!.leaseHolder === undefined || v!.leaseHolder === actives[0]?.[0])
      if (actives.length === 1 && actives.length + spares.length === views.length && agreed && actives[0][1]?.flowsState !== 'stop') return {active: actives[0][0], statuses}
      return undefined
    },
    {timeoutMs, intervalMs: 100, what: `the set-up settled (${modeOf(topology.mode).singleActive ? 'one active, the others spares' : 'every replica healthy'})`, detail: () => last},
  )
}

async function waitTakeover(topology: Topology, victim: string, timeoutMs: number): Promise<void> {
  if (!modeOf(topology.mode).singleActive) return
  await pollUntil(async () => {
    const statuses = await topology.statuses()
    return [...statuses.entries()].some(([n, s]) => n !== victim && s?.role === 'active')
  }, {timeoutMs, what: `a spare taking over from ${victim}`})
}

/**
 * Clients are served again: at least 300 ms after the fault, the last 10 answered requests all good, and
 * no request still waiting for more than a second. The last condition matters with several servers
 * (load-balanced): requests to the live replica answer at once while those sent to a dead one hang until
 * the proxy gives up on it; the answered ones alone would say "served" too early.
 */
export async function waitServed(http: HttpTraffic, faultAt: number, timeoutMs: number): Promise<void> {
  await pollUntil(() => {
    const t = now()
    if (t - faultAt < 300) return false
    if (http.pendingSince().some(sent => t - sent > 1000)) return false
    const recent = http.records.filter(r => r.t >= faultAt).sort((a, b) => a.t - b.t).slice(-10)
    return recent.length === 10 && recent.every(r => r.ok && r.latencyMs < 1000)
  }, {timeoutMs, what: 'clients served again after the fault'})
}
