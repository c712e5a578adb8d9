import {dualActiveWindows} from '../metrics.js'
import {runningIntervals} from '../running.js'
import type {DrillReport, IterationTimeline, ScenarioResult} from '../types.js'
import {esc} from './junit.js'

// One self-contained page: inline CSS and SVG, no scripts, no external assets. Per scenario, a timeline
// of its iterations (at most MAX_TIMELINES): each replica's role from the agents' /status, the time it
// ran flows, the fault, and every request as a dot coloured by outcome. Pure.

const MAX_TIMELINES = 3
const WIDTH = 960
const LEFT = 110
const LANE = 22

const ROLE_COLOURS: Record<string, string> = {
  active: '#2e9e4f',
  spare: '#9aa5b1',
  starting: '#e0b040',
  fenced: '#d9534f',
  stopping: '#f08c3a',
  unreachable: '#ffffff',
}

export function drillHtml(report: DrillReport): string {
  // grouped by fault class, in the order the table and --json list them
  const byName = new Map(report.scenarios.map(sc => [sc.name, sc]))
  const sections = report.faultClasses.map(c => byName.get(c.name)).filter((sc): sc is ScenarioResult => sc !== undefined).map(scenarioSection).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ff-ha failover-test report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2733;max-width:1000px}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #d4d9de;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}.skip{color:#777}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px;border:1px solid #999}
svg{background:#fbfcfd;border:1px solid #e3e7eb;margin:6px 0}
</style></head><body>
<h1>ff-ha failover-test — ${report.passed ? '<span class="pass">passed</span>' : '<span class="fail">FAILED</span>'}</h1>
<p>Target <b>${esc(report.target)}</b>, mode <b>${esc(report.mode)}</b>, proxy <b>${esc(report.proxy)}</b>, broker <b>${esc(report.broker)}</b>${report.lease ? `, lease <b>${esc(report.lease)}</b>` : ''}.
Cold start of the same Node-RED with the same flows: <b>${report.baseline.coldStartMs ?? 'not measured'}${report.baseline.coldStartMs === null ? '' : ' ms'}</b>.
SLO: MTTR ≤ ${report.slo.maxMttrMs} ms, lost messages ≤ ${report.slo.maxLostMessages}, dual-active ≤ ${report.slo.maxDualActiveMs} ms. Started ${esc(report.startedAt)}, took ${(report.durationMs / 1000).toFixed(1)} s.</p>
${summaryTable(report)}
<p class="legend">${Object.entries(ROLE_COLOURS).map(([k, c]) => `<span><i class="sw" style="background:${c}"></i>${k}</span>`).join('')}
<span><i class="sw" style="background:#1f6feb"></i>running flows</span><span><i class="sw" style="background:#c62828"></i>two running</span>
<span>requests: <b style="color:#2e9e4f">●</b> ok <b style="color:#f08c3a">●</b> slow <b style="color:#c62828">●</b> failed</span>
<span>MQTT: <b style="color:#2e9e4f">●</b> echoed <b style="color:#7b3fe4">●</b> duplicated <b style="color:#c62828">●</b> lost</span></p>
${sections}
</body></html>
`
}

function summaryTable(report: DrillReport): string {
  const byName = new Map(report.scenarios.map(sc => [sc.name, sc]))
  const rows = report.faultClasses.map(c => {
    const s = byName.get(c.name)
    if (!s) return `<tr><td>${c.name}</td><td colspan="11" class="skip" style="text-align:left">${esc(c.status)}${c.why ? `: ${esc(c.why)}` : ''}</td></tr>`
    const verdict = s.skipped ? `<span class="skip">skipped: ${esc(s.skipped)}</span>` : s.passed ? '<span class="pass">pass</span>' : '<span class="fail">FAIL</span>'
    return `<tr><td>${s.name}</td><td>${s.iterations.length}</td><td>${n(s.mttrMs.p50)}</td><td>${n(s.mttrMs.p95)}</td><td>${n(s.mttrMs.max)}</td><td>${n(s.detectionMs.p50)}</td><td>${s.ratioToColdStart ?? '-'}</td><td>${s.httpFailed}</td><td>${s.mqttLost} (${s.mqttLostAfterStop})</td><td>${s.mqttDuplicated}</td><td>${s.dualActiveMs}</td><td>${verdict}</td></tr>`
  })
  return `<table><tr><th>fault class</th><th>runs</th><th>MTTR p50 ms</th><th>p95</th><th>max</th><th>detection p50</th><th>÷ cold start</th><th>HTTP failed</th><th>MQTT lost (after the stop)</th><th>dup</th><th>dual-active ms</th><th>result</th></tr>${rows.join('')}</table>`
}

function scenarioSection(s: ScenarioResult): string {
  if (s.skipped) return `<h2>${s.name}</h2><p class="skip">Skipped: ${esc(s.skipped)}</p>`
  const failures = s.failures.length ? `<ul>${s.failures.map(f => `<li class="fail">${esc(f)}</li>`).join('')}</ul>` : ''
  const timelines = (s.timelines ?? []).slice(0, MAX_TIMELINES)
  const svgs = timelines.map((t, i) => {
    const m = s.iterations[i]
    const caption = m ? `iteration ${m.iteration}: fault on ${esc(m.faulted)}, MTTR ${m.mttrMs} ms, detection ${m.detectionMs ?? '-'} ms, ${m.httpFailed} failed of ${m.httpSent}, new active ${esc(m.newActive ?? '-')}` : ''
    return `<p>${caption}</p>${timelineSvg(t)}`
  })
  const more = (s.timelines?.length ?? 0) > MAX_TIMELINES ? `<p class="skip">${(s.timelines?.length ?? 0) - MAX_TIMELINES} more iterations not drawn.</p>` : ''
  return `<h2>${s.name}</h2>${failures}${svgs.join('\n')}${more}`
}

export function timelineSvg(t: IterationTimeline): string {
  const from = Math.max(t.start, t.fault.at - 600)
  const to = t.end
  const span = Math.max(1, to - from)
  const x = (time: number) => LEFT + ((Math.min(Math.max(time, from), to) - from) / span) * (WIDTH - LEFT - 10)
  const lanes = t.replicas.length + 2
  const height = 24 + lanes * LANE + 18
  const parts: string[] = []
  t.replicas.forEach((replica, i) => {
    const y = 20 + i * LANE
    parts.push(`<text x="4" y="${y + 13}" font-size="12">${esc(replica)}</text>`)
    for (const seg of roleSegments(t, replica)) {
      parts.push(`<rect x="${x(seg.from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(seg.to) - x(seg.from)).toFixed(1)}" height="12" fill="${ROLE_COLOURS[seg.role] ?? '#ccc'}" stroke="${seg.role === 'unreachable' ? '#bbb' : 'none'}"><title>${esc(replica)} ${seg.role}</title></rect>`)
    }
    for (const iv of runningIntervals(t, replica)) {
      parts.push(`<rect x="${x(iv.from).toFixed(1)}" y="${y + 13}" width="${Math.max(0.5, x(iv.to) - x(iv.from)).toFixed(1)}" height="4" fill="#1f6feb"/>`)
    }
  })
  const httpY = 20 + t.replicas.length * LANE + 6
  parts.push(`<text x="4" y="${httpY + 4}" font-size="12">HTTP</text>`)
  for (const r of t.http) {
    if (r.t < from) continue
    const colour = !r.ok ? '#c62828' : r.latencyMs > 1000 ? '#f08c3a' : '#2e9e4f'
    parts.push(`<circle cx="${x(r.t).toFixed(1)}" cy="${httpY}" r="2.2" fill="${colour}"><title>${r.status || esc(r.error ?? 'error')} ${Math.round(r.latencyMs)} ms ${esc(r.replica ?? '')}</title></circle>`)
  }
  const mqttY = httpY + LANE
  parts.push(`<text x="4" y="${mqttY + 4}" font-size="12">MQTT</text>`)
  if (!t.mqtt) parts.push(`<text x="${LEFT}" y="${mqttY + 4}" font-size="11" fill="#777">off</text>`)
  for (const m of t.mqtt ?? []) {
    if (m.t < from) continue
    const colour = m.echoes.length === 0 ? '#c62828' : m.echoes.length > 1 ? '#7b3fe4' : '#2e9e4f'
    parts.push(`<circle cx="${x(m.t).toFixed(1)}" cy="${mqttY}" r="2.2" fill="${colour}"><title>#${m.seq} ${m.echoes.map(e => esc(e.replica)).join(', ') || 'lost'}</title></circle>`)
  }
  for (const w of dualActiveWindows(t)) {
    parts.push(`<rect x="${x(w.from).toFixed(1)}" y="14" width="${Math.max(1, x(w.to) - x(w.from)).toFixed(1)}" height="${t.replicas.length * LANE + 2}" fill="#c62828" opacity="0.35"><title>two replicas ran flows for ${Math.round(w.to - w.from)} ms</title></rect>`)
  }
  parts.push(`<line x1="${x(t.fault.at).toFixed(1)}" x2="${x(t.fault.at).toFixed(1)}" y1="8" y2="${height - 14}" stroke="#c62828" stroke-width="2"/><text x="${(x(t.fault.at) + 4).toFixed(1)}" y="11" font-size="11" fill="#c62828">${t.fault.scenario} ${esc(t.fault.replica)}</text>`)
  if (t.fault.healedAt !== undefined) {
    parts.push(`<line x1="${x(t.fault.healedAt).toFixed(1)}" x2="${x(t.fault.healedAt).toFixed(1)}" y1="8" y2="${height - 14}" stroke="#555" stroke-dasharray="4 3"/><text x="${(x(t.fault.healedAt) + 4).toFixed(1)}" y="11" font-size="11" fill="#555">healed</text>`)
  }
  const step = tickStep(span)
  for (let tick = Math.ceil((from - t.fault.at) / step) * step; t.fault.at + tick <= to; tick += step) {
    const tx = x(t.fault.at + tick)
    parts.push(`<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${height - 16}" y2="${height - 12}" stroke="#888"/><text x="${tx.toFixed(1)}" y="${height - 2}" font-size="10" text-anchor="middle" fill="#555">${tick === 0 ? '0' : `${tick > 0 ? '+' : ''}${tick >= 1000 || tick <= -1000 ? `${tick / 1000}s` : `${tick}ms`}`}</text>`)
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="timeline of ${t.fault.scenario}">${parts.join('')}</svg>`
}

interface Segment {
  from: number
  to: number
  role: string
}

/** Role over time from the observer's samples (unreachable where the agent did not answer). */
export function roleSegments(t: IterationTimeline, replica: string): Segment[] {
  const samples = t.samples.filter(s => s.replica === replica).sort((a, b) => a.t - b.t)
  const out: Segment[] = []
  samples.forEach((s, i) => {
    const role = s.role ?? 'unreachable'
    const end = i + 1 < samples.length ? samples[i + 1].t : t.end
    const last = out[out.length - 1]
    if (last && last.role === role) last.to = end
    else out.push({from: s.t, to: end, role})
  })
  return out
}

function tickStep(span: number): number {
  for (const step of [100, 250, 500, 1000, 2000, 5000, 10000]) if (span / step <= 12) return step
  return 20000
}

function n(v: number | null): string {
  return v === null ? '-' : String(Math.round(v))
}
