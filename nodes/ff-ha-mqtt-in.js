'use strict'
// ff-ha mqtt in: a drop-in for core `mqtt in` (same properties, same `mqtt-broker` config node) that
// acknowledges each QoS 1/2 message only when every node the message reached has finished with it. See
// docs/design/mqtt-at-least-once.md.
const crypto = require('node:crypto')
const {completionTracker} = require('./lib/completion.js')
const {ackQueue} = require('./lib/ack-queue.js')

const DEFAULT_TIMEOUT_S = 30
const DEFAULT_WINDOW = 10

// Counters of every ff-ha mqtt in node in this runtime, by node id; GET <admin>/ff-ha/mqtt-in/stats.
const stats = new Map()

module.exports = function (RED) {
  function FfhaMqttInNode(config) {
    RED.nodes.createNode(this, config)
    const node = this
    node.topic = config.topic
    node.qos = parseInt(config.qos, 10)
    if (isNaN(node.qos) || node.qos < 0 || node.qos > 2) node.qos = 1
    node.datatype = config.datatype || 'utf8'
    const timeoutS = Number(config.nodeTimeout === undefined || config.nodeTimeout === '' ? DEFAULT_TIMEOUT_S : config.nodeTimeout)
    node.timeoutMs = (isFinite(timeoutS) && timeoutS > 0 ? timeoutS : DEFAULT_TIMEOUT_S) * 1000
    const window = parseInt(config.inflight, 10)
    node.window = window > 0 ? window : DEFAULT_WINDOW
    node.brokerConn = RED.nodes.getNode(config.broker)
    const counters = {received: 0, finished: 0, redelivered: 0, timedOut: 0, errors: 0, inFlight: 0}
    stats.set(node.id, counters)
    node.on('close', () => stats.delete(node.id))

    if (!node.brokerConn) {
      node.error('ff-ha mqtt in: no mqtt-broker configuration node; pick one in the node\'s Server field')
      return
    }
    if (!node.topic) {
      node.warn('ff-ha mqtt in: no topic; dynamic subscriptions (msg.action) are not supported by this node')
      return
    }
    if (node.qos === 2) {
      node.warn('ff-ha mqtt in: QoS 2 is acknowledged (PUBCOMP) after the flow, but MQTT.js sends PUBREC on arrival and keeps the message in memory: a replica crash between the two loses it. Use QoS 1 for at-least-once across failover.')
    }
    // Messages this node put into the flow that are not finished yet.
    const outstanding = new Set()
    let warnedFallback = false
    const tracker = completionTracker(RED)
    tracker.retain()
    // The ack queues (one per MQTT.js client of the broker node) this node is open on: see ack-queue.js on
    // what a queue does for its nodes' topic filters while they are closed.
    const opened = new Set()
    function queueOf(client) {
      const queue = ackQueue(client, {window: node.window})
      if (!opened.has(queue)) {
        opened.add(queue)
        queue.open(node.topic)
      }
      return queue
    }

    const v5 = () => node.brokerConn && node.brokerConn.options && node.brokerConn.options.protocolVersion == 5
    const options = {qos: node.qos}
    if (v5()) {
      if (config.rh !== undefined && config.rh !== '') options.rh = Number(config.rh)
      if (config.nl === true || config.nl === 'true') options.nl = true
      if (config.rap === true || config.rap === 'true') options.rap = true
    }

    function showTimeouts() {
      node.status({fill: 'yellow', shape: 'ring', text: `connected · ${counters.timedOut} unfinished (timed out)`})
    }

    function onMessage(topic, payload, packet) {
      counters.received++
      const msg = toMessage(topic, payload, packet || {})
      if (msg.redelivered) counters.redelivered++
      const client = node.brokerConn && node.brokerConn.client
      if (!packet || !packet.qos || !client) {
        node.send(msg)
        return
      }
      const queue = queueOf(client)
      if (!queue.intercept && !warnedFallback) {
        warnedFallback = true
        node.warn('ff-ha mqtt in: this MQTT.js has no _sendPacket; acknowledging one message at a time by holding handleMessage (an mqtt out on the same broker node then waits for the node timeout)')
      }
      const claim = {queue, slot: null, msgid: null, enter: null}
      claim.enter = () => {
        // Let into the flow (now, or when the window had room): the node timeout counts from here.
        claim.msgid = msg._msgid = RED.util.generateId()
        counters.inFlight++
        const entry = tracker.track(msg._msgid, {
          timeoutMs: node.timeoutMs,
          onTimeout(record) {
            counters.timedOut++
            node.warn(`ff-ha mqtt in: node ${record.nodeId} (${record.type}${record.name ? ' "' + record.name + '"' : ''}) did not finish message ${packet.messageId} on ${topic} within ${node.timeoutMs / 1000} s; acknowledging it without that node`)
            showTimeouts()
          },
          onFinished(summary) {
            outstanding.delete(claim)
            counters.inFlight--
            counters.finished++
            counters.errors += summary.errors
            queue.release(claim.slot)
          },
        })
        node.send(msg)
        entry.sent()
      }
      outstanding.add(claim)
      claim.slot = queue.claim(packet, claim.enter)
      queue.admit()
    }

    function toMessage(topic, payload, packet) {
      const msg = {topic, payload: convert(payload, packet), qos: packet.qos, retain: packet.retain}
      if (packet.qos > 0) {
        msg.messageId = packet.messageId
        // DUP is set when the broker sends a QoS 1 message again (a resumed session after a failover).
        msg.redelivered = packet.dup === true
        msg.idempotencyKey = idempotencyKey(topic, payload, packet)
      }
      const props = packet.properties
      if (v5() && props) {
        if (props.responseTopic) msg.responseTopic = props.responseTopic
        if (props.correlationData) msg.correlationData = props.correlationData
        if (props.contentType) msg.contentType = props.contentType
        if (props.userProperties) msg.userProperties = props.userProperties
        if (props.messageExpiryInterval !== undefined) msg.messageExpiryInterval = props.messageExpiryInterval
      }
      return msg
    }

    function convert(payload, packet) {
      const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload || '')
      if (node.datatype === 'buffer') return buf
      if (node.datatype === 'base64') return buf.toString('base64')
      const text = buf.toString('utf8')
      const utf8 = Buffer.from(text, 'utf8').equals(buf)
      if (node.datatype === 'json') {
        try {
          return JSON.parse(text)
        } catch (err) {
          node.warn(`ff-ha mqtt in: payload on ${packet.topic} is not JSON; passing it as a string`)
          return text
        }
      }
      if (node.datatype === 'utf8') return text
      if (!utf8) return buf
      if (node.datatype === 'auto-detect') {
        try {
          return JSON.parse(text)
        } catch (err) {
          return text
        }
      }
      return text
    }

    node.brokerConn.register(node)
    node.brokerConn.subscribe(node.topic, options, onMessage, node.id)
    if (node.brokerConn.client) queueOf(node.brokerConn.client)

    node.on('close', function (removed, done) {
      // Unfinished messages are not acked: the broker redelivers them on the next connection with this
      // client id (persistent session) or to another subscriber.
      for (const claim of outstanding) {
        if (claim.msgid) {
          tracker.forget(claim.msgid)
          claim.queue.abandon(claim.slot)
        } else claim.queue.abandonWaiting(claim.enter)
      }
      outstanding.clear()
      for (const queue of opened) queue.close(node.topic, removed)
      opened.clear()
      tracker.release()
      if (node.brokerConn) {
        node.brokerConn.unsubscribe(node.topic, node.id, removed)
        node.brokerConn.deregister(node, done, removed)
        node.brokerConn = null
      } else done()
    })
  }

  RED.nodes.registerType('ff-ha mqtt in', FfhaMqttInNode)

  RED.httpAdmin.get('/ff-ha/mqtt-in/stats', RED.auth.needsPermission('flows.read'), function (req, res) {
    res.json(Object.fromEntries(stats))
  })
}

/**
 * A key that is the same for every delivery of one published message: the publisher's own id when it sends one
 * (MQTT v5 user property `idempotency-key` or `message-id`), else a hash of topic and payload (two distinct
 * messages with the same topic and payload then share a key: publishers that can repeat a payload should send
 * an id).
 */
function idempotencyKey(topic, payload, packet) {
  const user = packet.properties && packet.properties.userProperties
  const given = user && (user['idempotency-key'] || user['message-id'])
  if (given) return String(Array.isArray(given) ? given[0] : given)
  return crypto.createHash('sha256').update(topic).update('\0').update(payload || '').digest('hex').slice(0, 32)
}
