// A deploy keeps Node-RED's event loop busy: it parses the body, saves the flows, stops the old ones and
// starts the new ones, each in long synchronous stretches (measured here: a 10 MB flows file of function
// nodes, 1.2 s without an answer to a spare, 30 s while an active started them). The health check cannot
// tell that from a hang, so Node-RED itself says when a deploy begins and ends (the preload in
// node-red-child.ts writes one JSON line per event to the agent):
//   {"deploy": "hello", "events": true}       at the first deploy: whether "done" events will come
//   {"deploy": "start", "bytes": N}           a POST /flows arrived (headers read, body not yet)
//   {"deploy": "answered", "status": 200}     its answer was sent; a failed one (4xx, 5xx) ends it
//   {"deploy": "done"}                        Node-RED's runtime-deploy event: the new flows run (or are saved, when stopped)
// While a deploy is under way, failed health checks do not make a hang; the grace is bounded by the size
// of the deploy, so that a Node-RED that truly hangs during a deploy is still killed.

/** Grace for any deploy: the agent's own bound for starting flows. */
export const DEPLOY_GRACE_BASE_MS = 60_000
/** And per MB of flows: about 3 times the slowest measured here (function nodes, ~3 s per MB on 2 busy cores). */
export const DEPLOY_GRACE_PER_MB_MS = 10_000

export type DeploySignal =
  | {deploy: 'hello'; events: boolean}
  | {deploy: 'start'; bytes: number}
  | {deploy: 'answered'; status: number}
  | {deploy: 'done'}

export interface DeployUnderWay {
  bytes: number
  /** Since the first deploy signal of this window. */
  sinceMs: number
  graceMs: number
}

export function deployGraceMs(bytes: number): number {
  return DEPLOY_GRACE_BASE_MS + Math.ceil((Math.max(0, bytes) / (1024 * 1024)) * DEPLOY_GRACE_PER_MB_MS)
}

export class DeployWindow {
  private pending = 0
  private bytes = 0
  private openedAt = 0
  private lastSignalAt = 0
  /** Whether Node-RED reports runtime-deploy; if not, a deploy ends with its answer. */
  private doneEvents = false

  /** Apply one signal; returns what changed, for the log. */
  signal(s: DeploySignal, now: number): 'opened' | 'closed' | null {
    if (s.deploy === 'hello') {
      this.doneEvents = s.events
      return null
    }
    const wasOpen = this.pending > 0
    if (s.deploy === 'start') {
      if (!wasOpen) {
        this.openedAt = now
        this.bytes = 0
      }
      this.pending++
      this.bytes = Math.max(this.bytes, Number.isFinite(s.bytes) ? s.bytes : 0)
    } else if (s.deploy === 'answered') {
      // A refused deploy (409, 413, 401) changes nothing and starts nothing.
      if (s.status >= 300 || !this.doneEvents) this.pending = Math.max(0, this.pending - 1)
    } else if (s.deploy === 'done') {
      this.pending = Math.max(0, this.pending - 1)
    }
    this.lastSignalAt = now
    if (!wasOpen && this.pending > 0) return 'opened'
    if (wasOpen && this.pending === 0) return 'closed'
    return null
  }

  /** The deploy under way, or null (none, or its grace is spent: then a failing Node-RED is hung after all). */
  underWay(now: number): DeployUnderWay | null {
    if (this.pending === 0) return null
    const graceMs = deployGraceMs(this.bytes)
    if (now - this.lastSignalAt > graceMs) return null
    return {bytes: this.bytes, sinceMs: Math.round(now - this.openedAt), graceMs}
  }

  /** A new Node-RED process: nothing of the old one's deploys is under way. */
  reset(): void {
    this.pending = 0
    this.bytes = 0
    this.doneEvents = false
  }
}
