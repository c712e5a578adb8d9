// The ack queue against a stand-in for an MQTT.js client: the two members it uses (handleMessage, which MQTT.js
// calls per PUBLISH and whose callback makes it send the ack; _sendPacket, which sends it) behave as in MQTT.js
// 5.15/5.16. The real client against real Mosquitto is in test/integration/mqtt/failover.test.ts.
import {EventEmitter} from 'node:events'
import {createRequire} from 'node:module'
import {describe, expect, it} from 'vitest'

const require = createRequire(import.meta.url)
const {AckQueue, topicMatches} = require('../../../nodes/lib/ack-queue.js')

type Packet = {cmd: 'publish'; qos: number; messageId: number; topic: string}

class FakeClient extends EventEmitter {
  sent: number[] = []
  destroyed = 0
  connected = true
  options: {clean: boolean}
  stream = {destroy: () => this.destroyed++}
  constructor(clean = false) {
    super()
    this.options = {clean}
  }
  _sendPacket(packet: {cmd: string; messageId: number}, cb?: () => void) {
    if (packet.cmd === 'puback') this.sent.push(packet.messageId)
    cb?.()
  }
  handleMessage(_packet: Packet, callback: () => void) {
    callback()
  }
  /** A QoS 1 PUBLISH from the broker, as MQTT.js's handlers/publish.js takes it: 'message', then handleMessage, whose callback sends the PUBACK. */
  deliver(packet: Packet) {
    this.emit('message', packet.topic, Buffer.from(''), packet)
    this.handleMessage(packet, () => this._sendPacket({cmd: 'puback', messageId: packet.messageId}))
  }
}

const publish = (messageId: number, topic = 'a/b'): Packet => ({cmd: 'publish', qos: 1, messageId, topic})

describe('the ack queue', () => {
  it('acks in arrival order, each message only once it and every one before it are finished', () => {
    const client = new FakeClient()
    const queue = new AckQueue(client, {window: 10})
    queue.open('a/b')
    const slots: unknown[] = []
    client.on('message', (_t: string, _p: Buffer, packet: Packet) => {
      slots.push(queue.claim(packet, () => {}))
      queue.admit()
    })
    for (const id of [1, 2, 3]) client.deliver(publish(id))
    expect(client.sent).toEqual([])
    queue.release(slots[1])
    expect(client.sent).toEqual([]) // 2 is finished but 1 is not
    queue.release(slots[0])
    expect(client.sent).toEqual([1, 2])
    queue.release(slots[2])
    expect(client.sent).toEqual([1, 2, 3])
  })

  it("does not ack a message that arrives for a closed node's topic before the connection ends (a deploy's stop)", () => {
    const client = new FakeClient()
    const queue = new AckQueue(client)
    queue.open('$share/g/a/+')
    queue.close('$share/g/a/+', false)
    client.deliver(publish(7, 'a/b'))
    expect(client.sent).toEqual([])
    expect(queue.held).toBe(1)
    // another topic on the same connection (a core mqtt in on the same broker node) is acked as before
    client.deliver(publish(8, 'other/topic'))
    expect(client.sent).toEqual([8])
  })

  it('acks as before once the node is removed for good', () => {
    const client = new FakeClient()
    const queue = new AckQueue(client)
    queue.open('a/b')
    queue.close('a/b', true)
    client.deliver(publish(9))
    expect(client.sent).toEqual([9])
  })

  it('reopening on a connection that left messages unacked drops the socket so the broker redelivers (persistent session only)', () => {
    for (const clean of [false, true]) {
      const client = new FakeClient(clean)
      const queue = new AckQueue(client)
      queue.open('a/b')
      let slot: unknown
      client.on('message', (_t: string, _p: Buffer, packet: Packet) => {
        slot = queue.claim(packet, () => {})
        queue.admit()
      })
      client.deliver(publish(1))
      queue.close('a/b', false)
      queue.abandon(slot)
      expect(client.sent).toEqual([])
      queue.open('a/b')
      expect(client.destroyed, `clean ${clean}`).toBe(clean ? 0 : 1)
      // a connection that closed took its unacked messages with it: nothing to force on the next one
      client.emit('close')
      queue.close('a/b', false)
      queue.open('a/b')
      expect(client.destroyed, `clean ${clean}`).toBe(clean ? 0 : 1)
    }
  })

  it('matches topic filters as MQTT does, a $share prefix stripped', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true)
    expect(topicMatches('$share/g/a/#', 'a/b/c')).toBe(true)
    expect(topicMatches('a/b', 'a/b/c')).toBe(false)
    expect(topicMatches('a/#', 'a')).toBe(true)
    expect(topicMatches('#', '$SYS/x')).toBe(false)
    expect(topicMatches('+/x', '$SYS/x')).toBe(false)
  })
})
