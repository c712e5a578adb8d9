'use strict'
// The ff-ha singleton node's client of its agent (docs/design/singleton.md). It polls
// POST <agent>/singleton/<name>; the agent answers {state, token, holder, validForMs, pollMs}. The node may
// pass messages only until `sentAt + validForMs`, where sentAt is when the request was SENT (as a renew
// counts from when it was sent, src/agent/lease/machine.ts invariant 5): the agent's grant never reaches
// past its renew deadline, so the node stops before the lease can expire, also when the agent or this
// poll stalls. A failed poll keeps the last grant, which then simply runs out.

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const NAME_HINT = 'lower-case letters, digits and "-" (at most 63), e.g. "nightly-report"'
const REQUEST_TIMEOUT_MS = 2000
const RETRY_MS = 500

/** Why `name` cannot be a singleton's name, or null. */
function nameProblem(name) {
  if (typeof name !== 'string' || name === '') return 'no singleton name: set the node\'s Name'
  return NAME.test(name) ? null : `invalid singleton name "${name.slice(0, 70)}": use ${NAME_HINT}`
}

async function defaultRequest(method, url, token, timeoutMs) {
  const res = await fetch(url, {method, headers: {authorization: `Bearer ${token}`}, signal: AbortSignal.timeout(timeoutMs)})
  const text = await res.text()
  if (res.status === 204) return null
  if (res.status !== 200) throw new Error(`agent answered HTTP ${res.status}`)
  return JSON.parse(text)
}

class SingletonClient {
  /**
   * @param {{name: string, url?: string, token?: string, now?: () => number, request?: Function,
   *          after?: (ms: number, fn: () => void) => {cancel(): void}, onView?: (view: object) => void}} options
   */
  constructor(options) {
    this.name = options.name
    this.url = options.url ? options.url + encodeURIComponent(options.name) : null
    this.token = options.token
    this.now = options.now || (() => performance.now())
    this.request = options.request || defaultRequest
    this.after = options.after || ((ms, fn) => {
      const t = setTimeout(fn, ms)
      return {cancel: () => clearTimeout(t)}
    })
    this.onView = options.onView || (() => {})
    this.validUntil = -Infinity
    this.fencingToken = null
    this.timer = null
    this.stopped = false
    this.view = null
  }

  /** Start polling; returns the problem that keeps the node from ever passing, or null. */
  start() {
    const problem = nameProblem(this.name) || (this.url && this.token ? null : 'not run by an ff-ha agent: no singleton lease, nothing passes')
    if (problem) {
      this.setView({state: 'error', error: problem})
      return problem
    }
    this.poll()
    return null
  }

  /** The grant in force now: {token} while this replica may pass messages, else null. */
  pass() {
    return this.now() < this.validUntil ? {token: this.fencingToken} : null
  }

  async poll() {
    if (this.stopped) return
    const sentAt = this.now()
    let next = RETRY_MS
    try {
      const answer = await this.request('POST', this.url, this.token, REQUEST_TIMEOUT_MS)
      if (this.stopped) return
      if (answer.state === 'holder' && answer.validForMs > 0) {
        this.validUntil = sentAt + answer.validForMs
        this.fencingToken = answer.token
      } else {
        // The agent says we are not (or no longer) the holder: stop at once, whatever was granted before.
        this.validUntil = -Infinity
        this.fencingToken = null
      }
      next = answer.pollMs > 0 ? answer.pollMs : RETRY_MS
      this.setView({state: answer.state, token: answer.token, holder: answer.holder, error: answer.error})
    } catch (err) {
      if (this.stopped) return
      this.setView({state: 'error', error: `cannot reach the ff-ha agent: ${err && err.message ? err.message : err}`})
    }
    const spent = this.now() - sentAt
    this.timer = this.after(Math.max(0, next - spent), () => this.poll())
  }

  /** Stop polling and passing; `removed`: the node left the flows, so the agent gives the singleton up now. */
  async stop(removed) {
    this.stopped = true
    this.validUntil = -Infinity
    if (this.timer) this.timer.cancel()
    if (removed && this.url && this.token && !nameProblem(this.name)) {
      try {
        await this.request('DELETE', this.url, this.token, REQUEST_TIMEOUT_MS)
      } catch {
        // the agent gives it up anyway once the polls stop
      }
    }
  }

  setView(view) {
    const key = JSON.stringify(view)
    if (key === this.viewKey) return
    this.viewKey = key
    this.view = view
    this.onView(view)
  }
}

module.exports = {SingletonClient, nameProblem}
