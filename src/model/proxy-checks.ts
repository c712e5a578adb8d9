import {modeOf} from '../modes/index.js'
import type {Profile} from '../profile/schema.js'

// How often a proxy checks each replica's agent: render writes it into haproxy.cfg, the agent sizes its
// drain from it (a stopping replica must stay in service until the proxy has seen it fail).

// With `inter 100ms fall 1 rise 1` on /active, HAProxy followed a change of active in 11-64 ms here
// (docs/design/node-red-facts.md, "HAProxy health checks"). The check interval scales with the MTTR the
// profile asks for, never below 100 ms (each check is an HTTP request to every replica) nor above 2 s
// (HAProxy's own default).
export function checkIntervalMs(profile: Profile): number {
  return Math.min(2000, Math.max(100, Math.floor(profile.slo.maxMttrMs / 50)))
}

// How long a check may take. Not the interval: a replica whose agent answers a check late (a loaded machine,
// a busy event loop) would be marked down, and with `fall 1` taken out of rotation for nothing; the drill's
// crash timelines showed the new active marked up a few intervals late for that. A hung agent still fails
// its check within 500 ms; a frozen active has lost the lease long before (leases last 2 s or more).
export function checkTimeoutMs(profile: Profile): number {
  return Math.max(500, checkIntervalMs(profile))
}

// Load-balanced, the proxy routes to every replica whose /healthz answers 200, and marks one down after
// `fall 2` failed checks at the check interval ff-ha render writes. A stopping agent fails /healthz first and
// keeps serving for 3 intervals (the wait for the next check, then two failed ones) plus 100 ms for the
// checks themselves, so no request reaches flows that are stopping. At least 300 ms (the drill's built-in
// proxy checks every 100 ms), at most 5 s (a SIGTERM grace period is often 10 s, and Node-RED needs some).
// Hot-spare hands over through the lease at once: no drain, it would only slow the handover.
export function drainMs(profile: Profile): number {
  if (!modeOf(profile.mode).agent.drainsOnStop) return 0
  return Math.min(5000, Math.max(300, 3 * checkIntervalMs(profile) + 100))
}
