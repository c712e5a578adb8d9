'use strict'
// Completion tracking: a message is finished when every node it reached has finished with it (called done(),
// returned from a handler that takes no done, reported an error, or ran past its timeout). Built only on
// Node-RED's public hooks (preDeliver, onReceive, postReceive, onComplete) and one log handler; the one
// internal read is Node#_expectedDoneCount (0 for a node whose input handler takes no `done`, which Node-RED
// never completes), present in Node-RED 4.1 and 5.0.
//
// A message is followed by its _msgid, which Node-RED keeps through clones (fan-out), link out/in, link call,
// subflows, and Catch/Complete copies. A node that builds a new msg object without copying _msgid starts a new,
// untracked message.
//
// Counting: every delivery is one token. preDeliver takes the token synchronously inside the sender's send(),
// before the sender can call done(), so the count cannot touch zero between a send and its delivery. A direct
// node.receive() (link out -> link in, link call, Catch) has no preDeliver and takes its token at onReceive,
// which runs synchronously inside the sender's handler for the same reason.
const {EventEmitter} = require('node:events')

const HOOK_LABEL = 'ffhaAtLeastOnce'
const LOG_ERROR = 20

class CompletionTracker {
  constructor(RED, options = {}) {
    this.RED = RED
    this.now = options.now || Date.now
    this.sweepMs = options.sweepMs || 200
    /** @type {Map<string, object>} _msgid -> entry */
    this.entries = new Map()
    // Records of handlers running right now (nested for synchronous receive() chains).
    this.stack = []
    this.users = 0
  }

  /** Called by each node that tracks messages; the hooks live while at least one user does. */
  retain() {
    if (this.users++ > 0) return
    const hooks = this.RED.hooks
    hooks.add(`preDeliver.${HOOK_LABEL}`, (ev) => this.onPreDeliver(ev))
    hooks.add(`onReceive.${HOOK_LABEL}`, (ev) => this.onReceive(ev))
    hooks.add(`postReceive.${HOOK_LABEL}`, (ev) => this.onPostReceive(ev))
    hooks.add(`onComplete.${HOOK_LABEL}`, (ev) => this.onComplete(ev))
    this.logHandler = new EventEmitter()
    this.logHandler.on('log', (m) => this.onLog(m))
    this.RED.log.addHandler(this.logHandler)
    this.sweeper = setInterval(() => this.sweep(), this.sweepMs)
    this.sweeper.unref()
  }

  release() {
    if (--this.users > 0) return
    this.RED.hooks.remove(`*.${HOOK_LABEL}`)
    this.RED.log.removeHandler(this.logHandler)
    clearInterval(this.sweeper)
    this.entries.clear()
    this.stack = []
  }

  /**
   * Start tracking msgid. The caller holds one token until it calls entry.sent() after send(), so that the
   * deliveries are counted first. onFinished(summary) runs once.
   */
  track(msgid, {timeoutMs, onFinished, onTimeout}) {
    const entry = {
      msgid, tokens: 1, pending: new Map(), active: new Map(), timeoutMs, onFinished, onTimeout,
      lastProgress: this.now(), finished: false, timedOut: 0, errors: 0,
    }
    entry.sent = () => this.take(entry)
    this.entries.set(msgid, entry)
    return entry
  }

  /** Stop following msgid without finishing it (its source closed). */
  forget(msgid) {
    const entry = this.entries.get(msgid)
    if (!entry) return
    entry.finished = true
    this.entries.delete(msgid)
  }

  onPreDeliver(ev) {
    const entry = this.entries.get(ev.msg && ev.msg._msgid)
    if (!entry) return
    const id = ev.destination.id
    entry.pending.set(id, (entry.pending.get(id) || 0) + 1)
    entry.tokens++
    entry.lastProgress = this.now()
  }

  onReceive(ev) {
    const entry = this.entries.get(ev.msg && ev.msg._msgid)
    const top = this.stack[this.stack.length - 1]
    // A Catch node receiving a copy of the message from the node whose handler is running: that handler threw
    // (or reported the error) and will not call done().
    if (top && ev.msg && ev.msg.error && ev.msg.error.source && ev.msg.error.source.id === top.nodeId) top.errored = true
    if (!entry) {
      this.stack.push(null)
      return
    }
    const node = ev.destination.node
    const id = ev.destination.id
    const pending = entry.pending.get(id) || 0
    if (pending > 0) entry.pending.set(id, pending - 1)
    else entry.tokens++
    const record = {
      entry, nodeId: id, type: node && node.type, name: node && node.name, since: this.now(), errored: false,
      // Node-RED completes only handlers declared with (msg, send, done); others finish when they return.
      returnsOnly: node ? node._expectedDoneCount === 0 : false, finished: false,
    }
    let list = entry.active.get(id)
    if (!list) entry.active.set(id, (list = []))
    list.push(record)
    entry.lastProgress = record.since
    this.stack.push(record)
  }

  onPostReceive() {
    const record = this.stack.pop()
    if (!record || record.finished || record.completing) return
    if (record.errored) this.finish(record, 'error')
    else if (record.returnsOnly) this.finish(record, 'returned')
  }

  onComplete(ev) {
    const entry = this.entries.get(ev.msg && ev.msg._msgid)
    if (!entry) return
    const list = entry.active.get(ev.node.id)
    const record = list && list.find((r) => !r.finished && !r.completing)
    if (!record) return
    // Node-RED runs this hook before it hands the message to Complete nodes (and, for done(err), to Catch
    // nodes), synchronously: finish a microtask later, after those have taken their tokens.
    record.completing = true
    const how = ev.error ? 'error' : 'done'
    queueMicrotask(() => {
      if (!record.finished) this.finish(record, how)
    })
  }

  onLog(m) {
    const top = this.stack[this.stack.length - 1]
    if (top && m.level === LOG_ERROR && m.id === top.nodeId) top.errored = true
  }

  finish(record, how) {
    record.finished = true
    const entry = record.entry
    const list = entry.active.get(record.nodeId)
    const i = list ? list.indexOf(record) : -1
    if (i >= 0) list.splice(i, 1)
    if (list && list.length === 0) entry.active.delete(record.nodeId)
    if (how === 'error') entry.errors++
    if (how === 'timeout') {
      entry.timedOut++
      if (entry.onTimeout) entry.onTimeout(record)
    }
    entry.lastProgress = this.now()
    this.take(entry)
  }

  take(entry) {
    if (entry.finished) return
    entry.tokens--
    if (entry.tokens > 0) return
    entry.finished = true
    this.entries.delete(entry.msgid)
    entry.onFinished({timedOut: entry.timedOut, errors: entry.errors})
  }

  /** Finish the handlers that ran past their entry's timeout; and deliveries that never arrived. */
  sweep() {
    const now = this.now()
    for (const entry of [...this.entries.values()]) {
      for (const list of [...entry.active.values()]) {
        for (const record of [...list]) {
          if (!record.finished && !record.completing && now - record.since >= entry.timeoutMs) this.finish(record, 'timeout')
        }
      }
      if (!entry.finished && entry.active.size === 0 && now - entry.lastProgress >= entry.timeoutMs) {
        // Tokens with no running handler: a delivery that was dropped (node removed, delivery threw).
        entry.timedOut++
        entry.tokens = 1
        this.take(entry)
      }
    }
  }
}

// One tracker per runtime: hooks are global to it.
let shared = null
function completionTracker(RED) {
  if (!shared || shared.RED.hooks !== RED.hooks) shared = new CompletionTracker(RED)
  return shared
}

module.exports = {CompletionTracker, completionTracker}
