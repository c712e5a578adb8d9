// A deploy keeps Node-RED's event loop busy: it parses the body, saves the flows, stops the old ones and
// starts the new ones, each in long synchronous stretches (measured here: a 10 MB flows file of function
// nodes, 1.2 s without an answer to a spare, 30 s while an active started them). The health check cannot
// tell that from a hang, so Node-RED itself says when a deploy begins and ends (the preload in
// node-red-child.ts writes one JSON line per event to the agent):
//   {"deploy": "hello", "events": true}                      at the first request: whether "done" events will come
//   {"deploy": "start", "id", "bytes": N, "write": true}     a request on the flows arrived (headers read, body not yet):
//                                                            a deploy (POST /flows, the /flow API), or GET /flows,
//                                                            which serialises every node and takes seconds for large flows
//   {"deploy": "answered", "id", "status": 200}              its answer was sent: a read or a refused deploy ends there
//   {"deploy": "done"}                                       Node-RED's runtime-deploy event: the new flows run (or are saved, when stopped)
// While a deploy is under way, failed health checks do not make a hang; the grace is bounded by the size
// of the deploy, so that a Node-RED that truly hangs during a deploy is still killed. A deploy is over only
// when a health check sent after its end has been answered: Node-RED goes on working for a moment after it
// emits runtime-deploy (seen: a check sent 100 ms before it timed out 100 ms after it).

/** Grace for any deploy, from its last sign of life: the agent's own bound for starting flows. */
export const DEPLOY_GRACE_BASE_MS = 60_000
/** And per MB of flows: about 3 times the slowest measured here (10 MB of mixed nodes, 94 s on 2 busy cores). */
export const DEPLOY_GRACE_PER_MB_MS = 30_000
/**
 * Node-RED's deploy time grows faster than its size (measured: 10 MB 48 s, 20 MB over 260 s to a spare), so
 * no grace sized in advance fits every file: while Node-RED's CPU time grows it is working, and each
 * advance is a sign of life. A Node-RED that is stopped (SIGSTOP) or blocked uses no CPU and runs out of
 * grace; one that loops forever in a deploy is cut off at this many graces.
 */
export const DEPLOY_HARD_CAP_GRACES = 10

export type DeploySignal =
  | {deploy: 'hello'; events: boolean}
  | {deploy: 'start'; id: number; bytes: number; write: boolean}
  | {deploy: 'answered'; id: number; status: number}
  | {deploy: 'done'}

export interface DeployUnderWay {
  /** Whether a deploy (not only reads) is part of it. */
  write: boolean
  bytes: number
  /** Since the first deploy signal of this window. */
  sinceMs: number
  graceMs: number
}

export function deployGraceMs(bytes: number): number {
  return DEPLOY_GRACE_BASE_MS + Math.ceil((Math.max(0, bytes) / (1024 * 1024)) * DEPLOY_GRACE_PER_MB_MS)
}

export class DeployWindow {
  /** Requests under way, by id: writes (deploys) end at runtime-deploy, reads (GET /flows) at their answer. */
  private requests = new Map<number, {write: boolean; answered: boolean}>()
  /** Every request ended, at endedAt; open until a health check sent after that is answered. */
  private settling = false
  private endedAt = 0
  private bytes = 0
  private wrote = false
  private openedAt = 0
  private lastSignalAt = 0
  /** Whether Node-RED reports runtime-deploy; if not, a deploy ends with its answer. */
  private doneEvents = false
  /** Whether any signal came: the channel works (a custom Node-RED command has none). */
  heard = false

  /** A copy to change: the supervisor's machine keeps its states as values. */
  clone(): DeployWindow {
    const copy = Object.assign(new DeployWindow(), this)
    copy.requests = new Map([...this.requests].map(([id, r]) => [id, {...r}]))
    return copy
  }

  /** Apply one signal; returns 'opened' when a request begins with none under way, 'ended' when the last one ended. */
  signal(s: DeploySignal, now: number): 'opened' | 'ended' | null {
    this.heard = true
    if (s.deploy === 'hello') {
      this.doneEvents = s.events
      return null
    }
    const wasOpen = this.open
    const hadRequests = this.requests.size > 0
    if (s.deploy === 'start') {
      if (!wasOpen) {
        this.openedAt = now
        this.bytes = 0
        this.wrote = false
      }
      this.wrote ||= s.write
      this.requests.set(s.id, {write: s.write, answered: false})
      this.settling = false
      this.bytes = Math.max(this.bytes, Number.isFinite(s.bytes) ? s.bytes : 0)
    } else if (s.deploy === 'answered') {
      const r = this.requests.get(s.id)
      // A read, a refused deploy (409, 413, 401: nothing changes, nothing starts), or any deploy when Node-RED's
      // events are not reachable, ends at its answer.
      if (r && (!r.write || s.status >= 300 || !this.doneEvents)) this.requests.delete(s.id)
      else if (r) r.answered = true
    } else {
      // runtime-deploy: the oldest deploy is done (Node-RED serialises them).
      const first = [...this.requests].find(([, r]) => r.write)
      if (first) this.requests.delete(first[0])
    }
    this.lastSignalAt = now
    if (hadRequests && this.requests.size === 0) {
      this.settling = true
      this.endedAt = now
      return 'ended'
    }
    return !wasOpen && this.open ? 'opened' : null
  }

  /** Node-RED used CPU since the last look: it is working on the deploy, not stuck. */
  alive(now: number): void {
    if (this.open) this.lastSignalAt = now
  }

  /** A health check sent at sentAt was answered: the window is over if every request had ended by then. */
  healthy(sentAt: number): 'closed' | null {
    if (!this.settling || sentAt < this.endedAt) return null
    this.settling = false
    return 'closed'
  }

  private get open(): boolean {
    return this.requests.size > 0 || this.settling
  }

  /** The deploy under way, or null (none, or its grace is spent: then a failing Node-RED is hung after all). */
  underWay(now: number): DeployUnderWay | null {
    if (!this.open) return null
    const graceMs = deployGraceMs(this.bytes)
    if (now - this.lastSignalAt > graceMs || now - this.openedAt > DEPLOY_HARD_CAP_GRACES * graceMs) return null
    return {write: this.wrote, bytes: this.bytes, sinceMs: Math.round(now - this.openedAt), graceMs}
  }

  /** A new Node-RED process: nothing of the old one's requests is under way. */
  reset(): void {
    this.requests.clear()
    this.settling = false
    this.bytes = 0
    this.doneEvents = false
    this.heard = false
  }
}
