import {round, summarize} from './stats.js'
import type {IterationMetrics, IterationTimeline, ScenarioName, ScenarioResult} from './types.js'
import {modeOf, type ModeId} from '../modes/index.js'

export interface Slo {
  maxMttrMs: number
  maxLostMessages: number
  maxDualActiveMs: number
}

/**
 * The freeze drill cannot reach zero overlap by construction: the frozen agent and its Node-RED wake at
 * the same instant, and the flows run until the agent has stopped them. It is judged against this
 * allowance (or the profile's limit, if larger).
 */
export const FREEZE_WAKE_ALLOWANCE_MS = 50

/** A scenario's figures and verdict from its iterations. Pure. */
export function scenarioResult(
  name: ScenarioName,
  mode: ModeId,
  iterations: IterationMetrics[],
  slo: Slo,
  coldStartMs: number | null,
  timelines?: IterationTimeline[],
): ScenarioResult {
  const mttr = summarize(iterations.map(i => i.mttrMs))
  const failures: string[] = []
  const dualLimit = name === 'freeze' ? Math.max(slo.maxDualActiveMs, FREEZE_WAKE_ALLOWANCE_MS) : slo.maxDualActiveMs
  for (const it of iterations) {
    const at = `iteration ${it.iteration}`
    if (it.mttrMs > slo.maxMttrMs) failures.push(`${at}: MTTR ${it.mttrMs} ms > slo.maxMttrMs ${slo.maxMttrMs} ms`)
    if (it.mqttLost > slo.maxLostMessages) failures.push(`${at}: ${it.mqttLost} MQTT messages lost (${it.mqttLostAfterStop} published after the faulted replica stopped) > slo.maxLostMessages ${slo.maxLostMessages}`)
    if (it.dualActiveMs > dualLimit) failures.push(`${at}: two replicas ran flows for ${it.dualActiveMs} ms > ${name === 'freeze' ? 'the wake-up allowance' : 'slo.maxDualActiveMs'} ${dualLimit} ms`)
    if (name === 'deploy' && modeOf(mode).drill.deployFailsNoRequest && it.httpFailed > 0) failures.push(`${at}: a rolling deploy failed ${it.httpFailed} requests (must be 0)`)
    if (it.notes.some(n => n.startsWith('HTTP never recovered'))) failures.push(`${at}: HTTP never recovered`)
    if (it.sharedContext && it.sharedContext.staleWrites > 0) failures.push(`${at}: ${it.sharedContext.staleWrites} shared-context writes of ${it.faulted} were accepted after the new active's first (the fence must refuse them)`)
  }
  return {
    name,
    iterations,
    mttrMs: mttr,
    detectionMs: summarize(iterations.map(i => i.detectionMs)),
    httpFailed: sum(iterations.map(i => i.httpFailed)),
    mqttLost: sum(iterations.map(i => i.mqttLost)),
    mqttLostAfterStop: sum(iterations.map(i => i.mqttLostAfterStop)),
    mqttDuplicated: sum(iterations.map(i => i.mqttDuplicated)),
    dualActiveMs: round(sum(iterations.map(i => i.dualActiveMs))) ?? 0,
    ratioToColdStart: mttr.p50 !== null && coldStartMs ? round(mttr.p50 / coldStartMs, 3) : null,
    passed: failures.length === 0,
    failures,
    timelines,
  }
}

export function skippedScenario(name: ScenarioName, reason: string): ScenarioResult {
  const none = {p50: null, p95: null, max: null}
  return {name, iterations: [], mttrMs: none, detectionMs: none, httpFailed: 0, mqttLost: 0, mqttLostAfterStop: 0, mqttDuplicated: 0, dualActiveMs: 0, ratioToColdStart: null, passed: true, skipped: reason, failures: []}
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}
