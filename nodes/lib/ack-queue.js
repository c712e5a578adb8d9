'use strict'
// Acknowledge QoS 1/2 messages in arrival order, each only when the flow has finished with it, with at most
// `window` messages in the flow at once.
//
// MQTT (3.1.1 and 5, section 4.6) wants PUBACKs in the order the PUBLISHes arrived, so a message is acked when
// it and every message before it on the connection are finished: what the broker still holds unacked after a
// crash is always "everything from the oldest unfinished message on", and it redelivers exactly that.
//
// MQTT.js calls client.handleMessage(packet, callback) and sends the PUBACK (QoS 1) or PUBCOMP (QoS 2, after
// PUBREL) in that callback; it reads no further packet from the socket until then. handleMessage is MQTT.js's
// documented override point, but holding its callback holds the socket reader: the PUBACKs that an `mqtt out`
// on the same connection waits for (to call done()) and the keepalive's PINGRESP are not read either, a
// deadlock that only the node timeout breaks. So the queue calls back at once and holds the ack packet
// instead, by wrapping the client's own _sendPacket (internal to MQTT.js, present in 5.15 and 5.16, which
// Node-RED 4.1.8 and 5.0.7 ship). The reader never waits; messages beyond the window wait here, unacked, until
// a slot frees; the broker's own in-flight limit (Mosquitto max_inflight_messages, MQTT v5 Receive Maximum)
// bounds how many it sends before acks. Without _sendPacket the queue falls back to holding the callback.
//
// A connection that closes takes its unacked messages with it: their acks are dropped, never sent on the next
// connection (where the same packet id may name another message); the broker redelivers them there.
//
// Stopping flows (a deploy, the agent demoting a replica) closes the ff-ha nodes before the broker config node
// ends the connection. Two holes in that window, both closed here:
// - a message that arrives after its ff-ha node closed has no claim; MQTT.js's default handleMessage would ack
//   it on arrival, with nobody handling it. The queue remembers the topic filters its nodes subscribed to and,
//   while none of them is open, swallows the ack of such a message (counted in `held`).
// - when the connection outlives the close (a 'nodes' deploy of the input only, or another node keeps the
//   broker node), a persistent session's unacked messages would sit at the broker until the connection ends:
//   Mosquitto redelivers only on a new connection. When an ff-ha node opens again on a connection that left
//   messages unacked, the queue drops the socket so that MQTT.js reconnects with the same client id and the
//   broker sends them again (with clean sessions that would discard them, so it only does this for
//   persistent ones).

const ACKS = new Set(['puback', 'pubcomp'])

class AckQueue {
  constructor(client, {window = 1} = {}) {
    this.client = client
    this.window = Math.max(1, window)
    this.order = [] // claimed packets, in arrival order, not yet acked
    this.claims = new WeakMap() // packet -> slot
    this.awaitingAck = new Map() // messageId -> slot, between handleMessage and the ack packet
    this.waiting = [] // claims not yet let into the flow: {slot, enter}
    this.active = 0 // claims in the flow and not finished
    this.acked = 0
    this.dropped = 0
    this.held = 0
    this.owners = 0 // ff-ha nodes open on this client
    this.filters = new Map() // topic filter -> ff-ha nodes that subscribed with it (open or closed, not removed)
    this.leftUnacked = 0 // messages left unacked on the current connection on purpose
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
        if (slot.swallow) {
          // A message for a closed ff-ha node: left unacked for the broker to send again.
          if (cb) cb()
          return
        }
        slot.ack = () => queue.sendAck(packet)
        // The reader goes on at once: see the header.
        if (cb) cb()
        queue.flush()
      }
    }
    client.on('close', () => this.dropAll())
  }

  /** An ff-ha node opened on this client with this topic filter. */
  open(filter) {
    this.owners++
    this.filters.set(filter, (this.filters.get(filter) || 0) + 1)
    const persistent = this.client.options && this.client.options.clean === false
    if (this.leftUnacked > 0 && persistent && this.client.connected && this.client.stream) {
      // See the header: only a new connection makes the broker send them again.
      this.leftUnacked = 0
      this.client.stream.destroy()
    }
  }

  /** The node closed; `removed`: it is gone for good, so its filter no longer holds messages back. */
  close(filter, removed) {
    this.owners = Math.max(0, this.owners - 1)
    if (!removed) return
    const n = (this.filters.get(filter) || 0) - 1
    if (n > 0) this.filters.set(filter, n)
    else this.filters.delete(filter)
  }

  /** A message with no claim for a filter of a closed ff-ha node, while none is open: do not ack it. */
  holds(packet) {
    if (this.owners > 0 || !packet || !packet.qos || typeof packet.topic !== 'string') return false
    for (const filter of this.filters.keys()) if (topicMatches(filter, packet.topic)) return true
    return false
  }

  /**
   * Claim a message seen in a 'message' event. `enter()` puts it into the flow when the window has room
   * (arrival order; call admit() after keeping the slot). Returns the slot to release when the flow is done.
   */
  claim(packet, enter) {
    let slot = this.claims.get(packet)
    if (!slot) {
      slot = {packet, refs: 0, finished: false, ack: null, live: true}
      this.claims.set(packet, slot)
      this.order.push(slot)
    }
    slot.refs++
    this.waiting.push({slot, enter})
    return slot
  }

  admit() {
    while (this.waiting.length > 0 && this.active < this.window) {
      const {slot, enter} = this.waiting.shift()
      if (!slot.live) continue
      this.active++
      enter()
    }
  }

  /** The flow is done with one claim of the slot. */
  release(slot) {
    this.active--
    if (--slot.refs <= 0) slot.finished = true
    this.flush()
    this.admit()
  }

  /**
   * Give up a claim that is in the flow without acking (the node that claimed it closed before the flow
   * finished it). The message stays unacked at the broker, which redelivers it on the next connection; it no
   * longer holds back the acks of later messages on this one (MQTT wants acks in order, but a stalled
   * connection is worse, and brokers accept it).
   */
  abandon(slot) {
    this.active--
    this.dropClaim(slot)
  }

  /** Forget a claim not let into the flow yet (its node closed): the same as abandon, before the flow. */
  abandonWaiting(enter) {
    const i = this.waiting.findIndex(w => w.enter === enter)
    if (i < 0) return
    const [w] = this.waiting.splice(i, 1)
    this.dropClaim(w.slot)
  }

  dropClaim(slot) {
    if (--slot.refs <= 0) {
      const i = this.order.indexOf(slot)
      if (i >= 0) this.order.splice(i, 1)
      slot.live = false
      this.dropped++
      this.leftUnacked++
    }
    this.flush()
    this.admit()
  }

  onHandleMessage(packet, callback, original) {
    const slot = this.claims.get(packet)
    if (!slot && this.intercept && this.holds(packet)) {
      this.held++
      this.leftUnacked++
      this.awaitingAck.set(packet.messageId, {swallow: true})
      return callback()
    }
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
    }
  }

  dropAll() {
    for (const slot of this.order) {
      slot.live = false
      this.dropped++
    }
    this.order = []
    this.awaitingAck.clear()
    this.leftUnacked = 0
    // Claims not let in yet belong to the closed connection too: the broker redelivers them.
    this.waiting = []
  }
}

/** MQTT topic filter match (+ one level, # the rest); a $share/<group>/ prefix is the group's, not the topic's. */
function topicMatches(filter, topic) {
  const f = (filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter).split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return !(i === 0 && t[0].startsWith('$'))
    if (i >= t.length) return false
    if (f[i] === '+') {
      if (i === 0 && t[0].startsWith('$')) return false
      continue
    }
    if (f[i] !== t[i]) return false
  }
  return f.length === t.length
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

module.exports = {AckQueue, ackQueue, topicMatches}
