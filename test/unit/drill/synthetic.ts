import type {HttpRecord, IterationTimeline, MqttRecord, Sample, ScenarioName} from '../../../src/drill/types.js'

// Synthetic timelines: two replicas a and b, a active until the fault at t=1000, b active from `takeover`.
export function hotSpareTimeline(options: {scenario?: ScenarioName; takeover?: number; oldStopsAt?: number; healedAt?: number; end?: number} = {}): IterationTimeline {
  const takeover = options.takeover ?? 1200
  const oldStopsAt = options.oldStopsAt ?? 1000
  const end = options.end ?? 3000
  const samples: Sample[] = []
  for (let t = 0; t < end; t += 20) {
    const aDown = t >= 1000 && t < oldStopsAt
    samples.push(
      t < 1000
        ? {t, replica: 'a', role: 'active', leaseHolder: 'a', flowsState: 'start'}
        : aDown
          ? {t, replica: 'a'}
          : {t, replica: 'a', role: 'spare', leaseHolder: t >= takeover ? 'b' : null, flowsState: 'stop'},
    )
    samples.push(
      t < takeover
        ? {t, replica: 'b', role: 'spare', leaseHolder: t < 1000 ? 'a' : null, flowsState: 'stop'}
        : {t, replica: 'b', role: 'active', leaseHolder: 'b', flowsState: 'start'},
    )
  }
  const http: HttpRecord[] = []
  for (let t = 0; t < end; t += 10) {
    const down = t >= 1000 && t < takeover + 30
    http.push(down ? {t, latencyMs: 1, status: 503, ok: false} : {t, latencyMs: 2, status: 200, ok: true, replica: t < 1000 ? 'a' : 'b'})
  }
  return {
    mode: 'hot-spare',
    replicas: ['a', 'b'],
    start: 0,
    end,
    fault: {scenario: options.scenario ?? 'crash', replica: 'a', at: 1000, healedAt: options.healedAt},
    samples,
    roleEvents: [
      {t: 0, replica: 'a', role: 'active'},
      {t: 1010, replica: 'a', role: 'spare'},
      {t: takeover, replica: 'b', role: 'active'},
    ],
    http,
    mqtt: mqttRecords(end),
  }
}

export function mqttRecords(end: number, lost: number[] = [], doubled: number[] = []): MqttRecord[] {
  const out: MqttRecord[] = []
  for (let seq = 0, t = 0; t < end; t += 50, seq++) {
    const echoes = lost.includes(seq) ? [] : [{t: t + 3, replica: 'a'}]
    if (doubled.includes(seq)) echoes.push({t: t + 400, replica: 'b'})
    out.push({seq, t, pubackAt: t + 1, echoes})
  }
  return out
}
