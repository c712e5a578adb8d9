import type {NodeRef} from './diff.js'
import {shortRev} from './rev.js'
import type {DeployReport, RevState} from './types.js'

/** The human summary on stdout: one row per replica, then the verdict. */
export function formatDeployReport(report: DeployReport): string {
  if (report.dryRun) return formatDryRun(report)
  const rows = [['REPLICA', 'ROLE', 'BEFORE', 'AFTER', 'STATUS', 'TIME']]
  for (const r of report.replicas) rows.push([r.name, r.role ?? '-', revState(r.before), revState(r.after), r.status, `${r.durationMs} ms`])
  const lines = table(rows)
  for (const r of report.replicas) if (r.error) lines.push(`  ${r.name}: ${r.error.startsWith(`${r.name}: `) ? r.error.slice(r.name.length + 2) : r.error}`)
  const on = report.replicas.filter(r => r.after.rev === report.rev).length
  const h = report.handover
  if (h) lines.push(h.to && !h.undone && report.replicas.find(r => r.name === h.to)?.after.state === 'start' ? `handover: ${h.from} -> ${h.to} in ${h.ms} ms` : `handover from ${h.from}${h.to ? ` to ${h.to}` : ''} failed after ${h.ms} ms${h.undone ? ', handed back' : ''}`)
  if (report.note) lines.push(`note: ${report.note}`)
  lines.push(report.ok ? `rev ${shortRev(report.rev)} on ${on} of ${report.replicas.length} replicas (${report.mode}, ${report.strategy}) in ${report.durationMs} ms` : `FAILED: ${report.error}`)
  return lines.join('\n')
}

function formatDryRun(report: DeployReport): string {
  const lines = [`dry run: rev ${shortRev(report.rev)}, nothing posted`]
  for (const r of report.replicas) {
    const c = r.changes
    if (!c) {
      lines.push(`${r.name}: ${r.error ?? 'not read'}`)
      continue
    }
    const total = c.added.length + c.removed.length + c.changed.length
    lines.push(`${r.name} (rev ${shortRev(r.before.rev)}, ${r.before.state}${r.role && r.role !== 'member' ? `, ${r.role}` : ''}): ${total === 0 ? 'no change' : `${c.added.length} added, ${c.removed.length} removed, ${c.changed.length} changed`}`)
    for (const [mark, list] of [['+', c.added], ['-', c.removed], ['~', c.changed]] as const) {
      for (const n of list.slice(0, 50)) lines.push(`  ${mark} ${describeNode(n)}`)
      if (list.length > 50) lines.push(`  ${mark} ... ${list.length - 50} more`)
    }
  }
  if (!report.ok) lines.push(`FAILED: ${report.error}`)
  return lines.join('\n')
}

function describeNode(n: NodeRef): string {
  return `${n.id} ${n.type}${n.name ? ` "${n.name}"` : ''}`
}

function revState(s: RevState): string {
  return s.rev === null ? '-' : `${shortRev(s.rev)} ${s.state}`
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  return rows.map(r => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
}
