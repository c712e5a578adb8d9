import {dualActiveIntervals, overlapMs, runningIntervals} from './running.js'
import type {HttpRecord, IterationMetrics, IterationTimeline, MqttRecord} from './types.js'
import {modeOf} from '../modes/index.js'

// Per-iteration figures from a recorded timeline. Pure: the same timeline always gives the same figures,
// and unit tests feed it synthetic timelines.

export interface MetricOptions {
  /** A success slower than this counts as part of the outage for MTTR (a client that waited that long was not served). */
  slowMs?: number
}

export function iterationMetrics(timeline: IterationTimeline, iteration: number, options: MetricOptions = {}): IterationMetrics {
  const notes: string[] = []
  const http = httpOutage(timeline.http, timeline.fault.at, timeline.end, options.slowMs ?? 1000)
  if (http.neverRecovered) notes.push('HTTP never recovered before the iteration ended')
  const mqtt = timeline.mqtt ? mqttLoss(timeline.mqtt, stoppedAt(timeline)) : {sent: 0, lost: 0, lostAfterStop: 0, duplicated: 0}
  const single = modeOf(timeline.mode).singleActive
  const dual = single ? dualActiveMs(timeline) : 0
  const detection = detectionMs(timeline)
  if (detection === null && timeline.fault.scenario !== 'deploy') notes.push('no agent was seen to give up or take over the lease')
  const newActive = newActiveReplica(timeline)
  if (single && newActive === null) notes.push('no replica was seen active after the fault')
  return {
    iteration,
    faulted: timeline.fault.replica,
    detectionMs: detection === null ? null : round1(detection),
    mttrMs: round1(http.mttrMs),
    unavailableMs: round1(http.unavailableMs),
    httpSent: timeline.http.length,
    httpFailed: http.failed,
    mqttSent: mqtt.sent,
    mqttLost: mqtt.lost,
    mqttLostAfterStop: mqtt.lostAfterStop,
    mqttDuplicated: mqtt.duplicated,
    dualActiveMs: round1(dual),
    newActive,
    ...(timeline.sharedContext ? {sharedContext: sharedContextWrites(timeline.sharedContext, timeline.fault.replica)} : {}),
    notes,
  }
}

/** The fence's proof: no write of the faulted replica lands after another replica's first one. */
export function sharedContextWrites(c: {log: string[]; refused: number}, faulted: string): {writes: number; staleWrites: number; refused: number} {
  const firstOther = c.log.findIndex(r => r !== faulted)
  const staleWrites = firstOther < 0 ? 0 : c.log.slice(firstOther).filter(r => r === faulted).length
  return {writes: c.log.length, staleWrites, refused: c.refused}
}

export interface HttpOutage {
  mttrMs: number
  unavailableMs: number
  failed: number
  neverRecovered: boolean
}

/**
 * MTTR as a client sees it: from the fault to the completion of the first good request sent after the
 * last bad one (failed, or slower than slowMs). Requests still in flight at the fault count.
 */
export function httpOutage(records: HttpRecord[], faultAt: number, end: number, slowMs: number): HttpOutage {
  const after = records.filter(r => r.t + r.latencyMs >= faultAt).sort((a, b) => a.t - b.t)
  const failed = after.filter(r => !r.ok).length
  const bad = after.filter(r => !r.ok || r.latencyMs > slowMs)
  if (bad.length === 0) return {mttrMs: 0, unavailableMs: 0, failed, neverRecovered: false}
  const lastBad = bad[bad.length - 1].t
  const recovery = after.find(r => r.t > lastBad && r.ok && r.latencyMs <= slowMs)
  const recoveredAt = recovery ? recovery.t + recovery.latencyMs : end
  return {
    mttrMs: Math.max(0, recoveredAt - faultAt),
    unavailableMs: Math.max(0, recoveredAt - bad[0].t),
    failed,
    neverRecovered: !recovery,
  }
}

/** QoS 1: a message the broker acknowledged and nobody echoed is lost; every echo beyond the first is a duplicate. */
export function mqttLoss(records: MqttRecord[], stopAt = Infinity): {sent: number; lost: number; lostAfterStop: number; duplicated: number} {
  const acked = records.filter(r => r.pubackAt !== undefined)
  const lost = acked.filter(r => r.echoes.length === 0)
  return {
    sent: acked.length,
    lost: lost.length,
    lostAfterStop: lost.filter(r => r.t >= stopAt).length,
    duplicated: acked.reduce((n, r) => n + Math.max(0, r.echoes.length - 1), 0),
  }
}

/** When the faulted replica stopped running flows after the fault (the fault itself for crash, hang, freeze, deploy). */
export function stoppedAt(timeline: IterationTimeline): number {
  const {fault} = timeline
  if (fault.scenario === 'deploy') return fault.at
  const running = runningIntervals(timeline, fault.replica).find(iv => iv.from <= fault.at && iv.to > fault.at)
  return running ? running.to : fault.at
}

export function dualActiveMs(timeline: IterationTimeline): number {
  return overlapMs(timeline.replicas.map(r => runningIntervals(timeline, r)))
}

export function dualActiveWindows(timeline: IterationTimeline) {
  return dualActiveIntervals(timeline.replicas.map(r => runningIntervals(timeline, r)))
}

/**
 * Detection, as the agents tell it: the first moment after the fault at which the faulted replica's agent
 * stopped claiming to be active, or another agent saw the lease free or held by someone else, or took it.
 */
export function detectionMs(timeline: IterationTimeline): number | null {
  const {fault} = timeline
  let first = Infinity
  for (const s of timeline.samples) {
    if (s.t <= fault.at || s.t >= first) continue
    if (s.replica === fault.replica && s.role !== undefined && s.role !== 'active') first = s.t
    else if (modeOf(timeline.mode).singleActive && s.replica !== fault.replica && s.role !== undefined && (s.role === 'active' || (s.leaseHolder !== undefined && s.leaseHolder !== fault.replica))) first = s.t
  }
  for (const e of timeline.roleEvents) {
    if (e.t <= fault.at || e.t >= first) continue
    if (e.replica === fault.replica && e.role !== 'active') first = e.t
    else if (modeOf(timeline.mode).singleActive && e.replica !== fault.replica && e.role === 'active') first = e.t
  }
  return Number.isFinite(first) ? first - fault.at : null
}

/** Hot-spare: the replica seen active after the fault (the last one seen, if it changed more than once). */
export function newActiveReplica(timeline: IterationTimeline): string | null {
  if (!modeOf(timeline.mode).singleActive) return null
  let who: string | null = null
  let when = -Infinity
  for (const s of timeline.samples) if (s.t > timeline.fault.at && s.role === 'active' && s.flowsState === 'start' && s.t >= when) (who = s.replica), (when = s.t)
  for (const e of timeline.roleEvents) if (e.t > timeline.fault.at && e.role === 'active' && e.t >= when && who === null) (who = e.replica), (when = e.t)
  return who
}

function round1(v: number): number {
  return Math.round(v * 10) / 10
}
