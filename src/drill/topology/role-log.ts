import {isAgentRole} from '../../model/roles.js'
import {now} from '../clock.js'
import type {Role, RoleEvent} from '../types.js'

// The agents log each role change as a JSON line on stdout ({"event":"role","role":"active",...}). The
// local target reads them to time role changes from the agent's side, beside the polled /status.

export function parseRole(line: string): Role | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const o = JSON.parse(line) as {event?: unknown; role?: unknown}
    return o.event === 'role' && isAgentRole(o.role) ? o.role : undefined
  } catch {
    return undefined
  }
}

/** Append a role event for a replica's log line, when it is one and the role changed. */
export function recordRole(events: RoleEvent[], replica: string, line: string): void {
  const role = parseRole(line)
  if (!role) return
  const last = events.findLast(e => e.replica === replica)
  if (last?.role !== role) events.push({t: now(), replica, role})
}
