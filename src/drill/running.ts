import type {IterationTimeline, RoleEvent, Sample} from './types.js'

// Who was running flows when. The observer's /flows/state samples are the primary source; where a
// replica did not answer, its agent's logged role decides (a partitioned replica cannot be polled but its
// agent's stdout still reaches us). A replica that the fault froze, hung or killed runs nothing while the
// fault holds, whatever its last log line said. Pure.

export interface Interval {
  from: number
  to: number
}

export function runningIntervals(timeline: IterationTimeline, replica: string): Interval[] {
  const samples = timeline.samples.filter(s => s.replica === replica).sort((a, b) => a.t - b.t)
  const events = timeline.roleEvents.filter(e => e.replica === replica).sort((a, b) => a.t - b.t)
  const out: Interval[] = []
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]
    const to = i + 1 < samples.length ? samples[i + 1].t : timeline.end
    if (to <= s.t) continue
    if (bootMisreport(samples, i)) continue
    if (isRunning(s, events, timeline, replica)) push(out, {from: s.t, to})
  }
  return out
}

// Right after boot, Node-RED answers GET /flows/state with `start` for a few ms before it applies the
// persisted `stop` (docs/design/node-red-facts.md, "Flows state at boot"; the agent ignores it too). A lone
// `start` sample while the agent still says `starting`, between samples that are not `start`, is that
// misreport, not flows running. Two in a row (>= 20 ms apart) count: a runtime that really booted started
// must not hide here.
function bootMisreport(samples: Sample[], i: number): boolean {
  const s = samples[i]
  if (s.flowsState !== 'start' || s.role !== 'starting') return false
  return samples[i - 1]?.flowsState !== 'start' && samples[i + 1]?.flowsState !== 'start'
}

function isRunning(s: Sample, events: RoleEvent[], timeline: IterationTimeline, replica: string): boolean {
  const f = timeline.fault
  const suspends = f.scenario === 'crash' || f.scenario === 'replica-crash' || f.scenario === 'hang' || f.scenario === 'freeze' || f.scenario === 'host-loss'
  const held = suspends && f.replica === replica && s.t >= f.at && (f.healedAt === undefined || s.t < f.healedAt)
  // The Node-RED process that the fault killed or stopped runs nothing, whatever is said about it: on
  // attached targets the flows state is the agent's last view, which stays `start` until the agent notices
  // the crash. A new process (another pid) is judged by what it reports.
  if (held && f.nodeRedPid !== undefined && s.nodeRedPid === f.nodeRedPid) return false
  if (s.flowsState !== undefined) return s.flowsState === 'start'
  if (held) return false
  return lastRole(events, s.t) === 'active'
}

export function lastRole(events: RoleEvent[], t: number): RoleEvent['role'] | undefined {
  let role: RoleEvent['role'] | undefined
  for (const e of events) {
    if (e.t > t) break
    role = e.role
  }
  return role
}

function push(out: Interval[], iv: Interval): void {
  const last = out[out.length - 1]
  if (last && last.to >= iv.from) last.to = Math.max(last.to, iv.to)
  else out.push({...iv})
}

/** Total time covered by at least two of the interval lists. */
export function overlapMs(lists: Interval[][]): number {
  const points: {t: number; d: number}[] = []
  for (const list of lists) for (const iv of list) points.push({t: iv.from, d: 1}, {t: iv.to, d: -1})
  points.sort((a, b) => a.t - b.t || a.d - b.d)
  let depth = 0
  let since = 0
  let total = 0
  for (const p of points) {
    if (depth >= 2) total += p.t - since
    depth += p.d
    since = p.t
  }
  return total
}

/** The intervals during which more than one replica ran flows. */
export function dualActiveIntervals(lists: Interval[][]): Interval[] {
  const points: {t: number; d: number}[] = []
  for (const list of lists) for (const iv of list) points.push({t: iv.from, d: 1}, {t: iv.to, d: -1})
  points.sort((a, b) => a.t - b.t || a.d - b.d)
  const out: Interval[] = []
  let depth = 0
  for (const p of points) {
    const before = depth
    depth += p.d
    if (before < 2 && depth >= 2) out.push({from: p.t, to: p.t})
    if (before >= 2 && depth < 2) out[out.length - 1].to = p.t
  }
  return out
}
