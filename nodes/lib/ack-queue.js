'use strict'
// Acknowledge QoS 1/2 messages in arrival order, each only when the flow has finished with it.
//
// MQTT (3.1.1 and 5, section 4.6) wants PUBACKs in the order the PUBLISHes arrived, so a message is acked when
// it and every message before it on the connection are finished: what the broker still holds unacked after a
// crash is always "everything from the oldest unfinished message on", and it redelivers exactly that.
//
// MQTT.js calls client.handleMessage(packet, callback) and sends the PUBACK (QoS 1) or PUBCOMP (QoS 2, after
// PUBREL) in that callback; it reads no further packet from the socket until then. handleMessage is MQTT.js's
// documented override point. Holding its callback alone gives one message in flight per connection. For more,
// the queue calls back at once and holds the ack packet instead, by wrapping the client's own _sendPacket
// (internal to MQTT.js, present in 5.15 and 5.16, which Node-RED 4.1.8 and 5.0.7 ship); while `window`
// messages are unacked it holds the socket reader's continuation, so the broker's flow is back-pressured by
// TCP. Without _sendPacket it falls back to holding the callback (window 1).
//
// A connection that closes takes its unacked messages with it: their acks are dropped, never sent on the next
// connection (where the same packet id may name another message); the broker redelivers them there.

const ACKS = new Set(['puback', 'pubcomp'])

class AckQueue {
  constructor(client, {window = 1} = {}) {
    this.client = client
    this.window = Math.max(1, window)
    this.order = [] // claimed packets, in arrival order, not yet acked
    this.claims = new WeakMap() // packet -> slot
    this.awaitingAck = new Map() // messageId -> slot, between handleMessage and the ack packet
    this.acked = 0
    this.dropped = 0
    this.intercept = typeof client._sendPacket === 'function'
    const queue = this
    const original = client.handleMessage
    client.handleMessage = function (packet, callback) {
      queue.onHandleMessage(packet, callback, original)
    }
    if (this.intercept) {
      const send = client._sendPacket
      this.sendAck = (packet) => send.call(client, packet, () => {})
      client._sendPacket = function (packet, cb, ...rest) {
        const slot = packet && ACKS.has(packet.cmd) ? queue.awaitingAck.get(packet.messageId) : undefined
        if (!slot) return send.call(this, packet, cb, ...rest)
        queue.awaitingAck.delete(packet.messageId)
        slot.ack = () => queue.sendAck(packet)
        // The reader may go on while fewer than `window` messages are unacked.
        if (queue.order.length <= queue.window || !queue.order.includes(slot)) {
          if (cb) cb()
        } else slot.resume = cb
        queue.flush()
      }
    }
    client.on('close', () => this.dropAll())
  }

  /** Claim a message seen in a 'message' event; returns a slot to release when the flow is done. */
  claim(packet) {
    let slot = this.claims.get(packet)
    if (!slot) {
      slot = {packet, refs: 0, finished: false, ack: null, resume: null, live: true}
      this.claims.set(packet, slot)
      this.order.push(slot)
    }
    slot.refs++
    return slot
  }

  release(slot) {
    if (--slot.refs > 0) return
    slot.finished = true
    this.flush()
  }

  /**
   * Give up a claim without acking (the node that claimed it closed before the flow finished it). The message
   * stays unacked at the broker, which redelivers it on the next connection; it no longer holds back the acks
   * of later messages on this one (MQTT wants acks in order, but a stalled connection is worse, and brokers
   * accept it).
   */
  abandon(slot) {
    if (--slot.refs > 0) return
    const i = this.order.indexOf(slot)
    if (i >= 0) this.order.splice(i, 1)
    slot.live = false
    this.dropped++
    if (slot.resume) this.resumeOne(slot)
    this.flush()
  }

  onHandleMessage(packet, callback, original) {
    const slot = this.claims.get(packet)
    if (!slot || !slot.live) return original.call(this.client, packet, callback)
    if (this.intercept) {
      this.awaitingAck.set(packet.messageId, slot)
      callback()
    } else {
      slot.ack = () => callback()
      this.flush()
    }
  }

  flush() {
    while (this.order.length > 0 && this.order[0].finished && this.order[0].ack) {
      const slot = this.order.shift()
      slot.live = false
      this.acked++
      slot.ack()
      if (slot.resume) this.resumeOne(slot)
    }
    // Let a held reader go on once the window has room again.
    for (const slot of this.order) {
      if (this.order.length <= this.window) {
        if (slot.resume) this.resumeOne(slot)
      }
    }
  }

  resumeOne(slot) {
    const resume = slot.resume
    slot.resume = null
    resume()
  }

  dropAll() {
    for (const slot of this.order) {
      slot.live = false
      this.dropped++
    }
    this.order = []
    this.awaitingAck.clear()
  }

  get inFlight() {
    return this.order.length
  }
}

const queues = new WeakMap()
/** The queue of an MQTT.js client (one per connection object, shared by every node that uses it). */
function ackQueue(client, options) {
  let q = queues.get(client)
  if (!q) {
    q = new AckQueue(client, options)
    queues.set(client, q)
  } else if (options && options.window > q.window) q.window = options.window
  return q
}

module.exports = {AckQueue, ackQueue}
