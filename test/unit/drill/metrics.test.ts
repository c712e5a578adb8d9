import {describe, expect, it} from 'vitest'
import {detectionMs, httpOutage, iterationMetrics, mqttLoss, dualActiveMs, stoppedAt} from '../../../src/drill/metrics.js'
import {overlapMs} from '../../../src/drill/running.js'
import {percentile, summarize} from '../../../src/drill/stats.js'
import {hotSpareTimeline, mqttRecords} from './synthetic.js'

describe('drill metrics on synthetic timelines', () => {
  it('a crash with takeover at +200 ms: MTTR to the first success after the last failure, no dual-active', () => {
    const m = iterationMetrics(hotSpareTimeline({takeover: 1200}), 1)
    // the last failed request was sent at 1220 (< takeover + 30); the next, at 1230, took 2 ms
    expect(m.mttrMs).toBe(232)
    expect(m.unavailableMs).toBe(232)
    expect(m.httpFailed).toBe(23)
    expect(m.dualActiveMs).toBe(0)
    expect(m.newActive).toBe('b')
    expect(m.detectionMs).toBe(10) // a's agent logged spare at 1010
    expect(m.notes).toEqual([])
  })

  it('counts the overlap when the old active keeps running flows after the new one started', () => {
    const t = hotSpareTimeline({takeover: 1200})
    // a keeps reporting start until 1260: overlap from 1200 to 1260 in its samples
    for (const s of t.samples) if (s.replica === 'a' && s.t >= 1000 && s.t < 1260) Object.assign(s, {role: 'active', flowsState: 'start'})
    expect(dualActiveMs(t)).toBe(60)
  })

  it('attached targets: the crashed Node-RED (the pid the fault killed) runs nothing, though its agent still reports start; a new process is judged by its report', () => {
    // compose: the observer sees only the agent's last view of its flows, `start` until it notices the crash
    const stale = hotSpareTimeline({takeover: 1200})
    stale.fault.nodeRedPid = 16
    for (const s of stale.samples) if (s.replica === 'a' && s.t < 1300) Object.assign(s, {role: 'active', flowsState: 'start', nodeRedPid: 16})
    expect(dualActiveMs(stale)).toBe(0)
    // the restarted Node-RED (pid 40) booting with flows started while b is active: a real overlap
    const reborn = hotSpareTimeline({takeover: 1200})
    reborn.fault.nodeRedPid = 16
    for (const s of reborn.samples) if (s.replica === 'a' && s.t >= 1400 && s.t < 1460) Object.assign(s, {role: 'spare', flowsState: 'start', nodeRedPid: 40})
    expect(dualActiveMs(reborn)).toBe(60)
    // without the pid (a target that does not know it) the report stands: counted
    const unknown = hotSpareTimeline({takeover: 1200})
    for (const s of unknown.samples) if (s.replica === 'a' && s.t < 1300) Object.assign(s, {role: 'active', flowsState: 'start', nodeRedPid: 16})
    expect(dualActiveMs(unknown)).toBe(100)
  })

  it("ignores a lone boot-time 'start' of a restarting replica (Node-RED's misreport), but not two in a row", () => {
    const lone = hotSpareTimeline({takeover: 1200})
    const at = (t: number) => lone.samples.find(s => s.replica === 'a' && s.t === t)!
    Object.assign(at(1500), {role: 'starting', flowsState: 'start'})
    expect(dualActiveMs(lone)).toBe(0)
    const twice = hotSpareTimeline({takeover: 1200})
    for (const t of [1500, 1520]) Object.assign(twice.samples.find(s => s.replica === 'a' && s.t === t)!, {role: 'starting', flowsState: 'start'})
    expect(dualActiveMs(twice)).toBe(40)
  })

  it('does not count a frozen replica as running while the fault holds, even if its last log said active', () => {
    const t = hotSpareTimeline({scenario: 'freeze', takeover: 3000, oldStopsAt: 5000, end: 5000, healedAt: 4000})
    t.roleEvents = [{t: 0, replica: 'a', role: 'active'}, {t: 3000, replica: 'b', role: 'active'}, {t: 4030, replica: 'a', role: 'fenced'}]
    // unreachable samples of a after the heal, until its agent logs fenced at 4030: counted as running
    expect(dualActiveMs(t)).toBe(40)
  })

  it('takes a partitioned (unreachable) replica as running while its agent logs active', () => {
    const t = hotSpareTimeline({scenario: 'partition', takeover: 1200, oldStopsAt: 2000})
    t.roleEvents = [{t: 0, replica: 'a', role: 'active'}, {t: 1300, replica: 'a', role: 'fenced'}, {t: 1200, replica: 'b', role: 'active'}]
    expect(dualActiveMs(t)).toBe(100)
  })

  it('MTTR is zero when nothing failed, and stalls beyond slowMs count as outage', () => {
    const ok = [0, 10, 20].map(t => ({t, latencyMs: 2, status: 200, ok: true}))
    expect(httpOutage(ok, 5, 100, 1000).mttrMs).toBe(0)
    const stalled = [{t: 0, latencyMs: 2, status: 200, ok: true}, {t: 10, latencyMs: 1500, status: 200, ok: true}, {t: 20, latencyMs: 2, status: 200, ok: true}]
    expect(httpOutage(stalled, 5, 3000, 1000)).toMatchObject({mttrMs: 17, failed: 0})
  })

  it('says when HTTP never recovered', () => {
    const out = httpOutage([{t: 10, latencyMs: 1, status: 0, ok: false}], 5, 500, 1000)
    expect(out).toEqual({mttrMs: 495, unavailableMs: 490, failed: 1, neverRecovered: true})
  })

  it('MQTT: lost means acked and never echoed; each extra echo is a duplicate', () => {
    const records = mqttRecords(1000, [3, 4], [7])
    records.push({seq: 99, t: 999, echoes: []}) // never acked by the broker: not counted as sent
    expect(mqttLoss(records, 175)).toEqual({sent: 20, lost: 2, lostAfterStop: 1, duplicated: 1})
  })

  it('graceful: a message lost while the old active was still stopping is not counted against the broker', () => {
    const t = hotSpareTimeline({scenario: 'graceful', takeover: 1200})
    // a keeps running flows for 40 ms after the SIGTERM
    for (const s of t.samples) if (s.replica === 'a' && s.t >= 1000 && s.t < 1040) Object.assign(s, {role: 'stopping', flowsState: 'start'})
    expect(stoppedAt(t)).toBe(1040)
    t.mqtt = mqttRecords(3000, [20, 21]) // published at 1000 (before the stop) and 1050 (after)
    expect(iterationMetrics(t, 1)).toMatchObject({mqttLost: 2, mqttLostAfterStop: 1})
  })

  it('detection is null when no agent was seen to react', () => {
    const t = hotSpareTimeline()
    t.samples = t.samples.filter(s => s.t < 1000)
    t.roleEvents = []
    expect(detectionMs(t)).toBeNull()
  })

  it('overlap of interval lists', () => {
    expect(overlapMs([[{from: 0, to: 10}], [{from: 5, to: 20}], [{from: 30, to: 40}]])).toBe(5)
    expect(overlapMs([[{from: 0, to: 10}]])).toBe(0)
  })

  it('nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95)).toBe(19)
    expect(summarize([null, 4, 2])).toEqual({p50: 2, p95: 4, max: 4})
    expect(summarize([])).toEqual({p50: null, p95: null, max: null})
  })
})
