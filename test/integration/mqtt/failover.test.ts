// Hot-spare failover with the broker as a fence: one fixed client id, a persistent session. A message arrives,
// the flow holds it, the active replica is SIGKILLed between receive and completion, the spare starts its
// flows with the same client id. With `ff-ha mqtt in` the broker redelivers the message to the spare, which
// handles it (msg.redelivered true). With core `mqtt in` (the control) the message was acked on arrival and
// is gone. Real Mosquitto, real Node-RED processes launched with the rendered settings.js (which adds ff-ha's
// nodes directory). Loss is shown by order, not by waiting: a sentinel published after the spare connected
// is handled after anything the broker had queued before it.
import mqtt, {type MqttClient} from 'mqtt'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {FlowNode} from '../../../src/admin/types.js'
import type {NodeRedMajor} from '../../../src/nodered/runtime.js'
import {startReplicas, type TestCluster} from '../../../harness/replicas.js'
import {at, brokerConfig, startMosquitto, type TestBroker} from '../../../harness/mosquitto.js'

type Marker = {id: string; port: string; redelivered: boolean; key?: string; stage: 'received' | 'handled'}

let broker: TestBroker
let observer: MqttClient
const markers: Marker[] = []

beforeAll(async () => {
  broker = await startMosquitto()
  observer = await mqtt.connectAsync(broker.url, {clientId: 'observer-' + process.pid, clean: true})
  await observer.subscribeAsync('it/+/received', {qos: 1})
  await observer.subscribeAsync('it/+/handled', {qos: 1})
  observer.on('message', (topic, payload) => {
    const m = JSON.parse(payload.toString())
    markers.push({...m, stage: topic.endsWith('/received') ? 'received' : 'handled'})
  })
})

afterAll(async () => {
  await observer?.endAsync()
  await broker?.stop()
})

/**
 * input -> mark (publishes it/<case>/received at once) and hold (waits 5 s when payload.hold, then publishes
 * it/<case>/handled and calls done()). Both replicas run the same flows, as in hot-spare mode.
 */
function flows(inputType: 'ff-ha mqtt in' | 'mqtt in', name: string, nodeTimeout = 30, qos = '1'): FlowNode[] {
  const marker = (stage: string) =>
    `{topic: 'it/${name}/${stage}', payload: {id: msg.payload.id, port: env.get('FF_HA_NODE_RED_PORT'), redelivered: msg.redelivered === true, key: msg.idempotencyKey}}`
  return [
    {id: 'tab', type: 'tab', label: 'mqtt'},
    brokerConfig(broker.port, `ff-ha-it-${name}`),
    at({id: 'in', type: inputType, topic: `it/${name}/in`, qos, datatype: 'json', broker: 'broker', nodeTimeout, inflight: 10, wires: [['mark', 'hold']]}),
    at({id: 'mark', type: 'function', func: `return ${marker('received')};`, outputs: 1, wires: [['out']]}),
    at({
      id: 'hold', type: 'function', outputs: 1, wires: [['out']],
      // payload.never: a node that never calls done() (the input's nodeTimeout finishes the message).
      func: `if (msg.payload.never) return null;\nsetTimeout(() => { node.send(${marker('handled')}); node.done() }, msg.payload.hold ? 5000 : 0);\nreturn null;`,
    }),
    at({id: 'out', type: 'mqtt out', broker: 'broker', qos: '1', retain: 'false', wires: []}),
  ]
}

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; markers: ${JSON.stringify(markers)}`)
    await new Promise(r => setTimeout(r, 25))
  }
}

const seen = (id: string, stage: Marker['stage'], port?: number) =>
  markers.find(m => m.id === id && m.stage === stage && (port === undefined || m.port === String(port)))

/** Publish `id` until a replica's flow reports it handled (the subscription exists once one is). */
async function warmUp(topic: string, id: string, port: number): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!seen(id, 'handled', port)) {
    if (Date.now() > deadline) throw new Error(`replica on port ${port} never handled ${id}; markers: ${JSON.stringify(markers)}`)
    await observer.publishAsync(topic, JSON.stringify({id}), {qos: 1})
    await new Promise(r => setTimeout(r, 300))
  }
}

/** The drill: hold m1 on replica 0, SIGKILL it, start replica 1, publish a sentinel; return what replica 1 saw. */
async function killBetweenReceiveAndCompletion(cluster: TestCluster, inputType: 'ff-ha mqtt in' | 'mqtt in', name: string) {
  const [active, spare] = cluster.replicas
  const topic = `it/${name}/in`
  for (const r of cluster.replicas) await r.client.postFlows(flows(inputType, name))
  await active.client.setFlowsState('start')
  await warmUp(topic, `${name}-warm`, active.port)

  await observer.publishAsync(topic, JSON.stringify({id: `${name}-m1`, hold: true}), {qos: 1})
  await until(`${name}-m1 received by the active`, () => seen(`${name}-m1`, 'received', active.port))
  await cluster.kill(0)
  // The invariant the drill rests on: the active never finished m1.
  expect(seen(`${name}-m1`, 'handled', active.port)).toBeUndefined()

  expect(await spare.client.getFlowsState()).toBe('stop')
  await spare.client.setFlowsState('start')
  await warmUp(topic, `${name}-sentinel`, spare.port)
  return {spare, m1: () => markers.filter(m => m.id === `${name}-m1` && m.port === String(spare.port))}
}

/** The input's counters from GET /ff-ha/mqtt-in/stats once nothing is in flight (and `also` holds). */
async function settledStats(cluster: TestCluster, url: string, also: (c: Record<string, number>) => boolean = () => true) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const res = await fetch(new URL('ff-ha/mqtt-in/stats', url), {headers: {Authorization: `Bearer ${cluster.token}`}})
    expect(res.status).toBe(200)
    const counters = ((await res.json()) as Record<string, Record<string, number>>).in
    if ((counters.inFlight === 0 && also(counters)) || Date.now() > deadline) return counters
    await new Promise(r => setTimeout(r, 200))
  }
}

for (const major of [4, 5] as NodeRedMajor[]) {
  describe(`Node-RED ${major}: a replica killed between receive and completion`, () => {
    let cluster: TestCluster
    beforeAll(async () => {
      cluster = await startReplicas(2, {major, prefix: `mqtt-nr${major}`})
    }, 120_000)
    afterAll(async () => {
      await cluster?.stop()
    })

    it('ff-ha mqtt in: the broker redelivers the unfinished message to the new active, which handles it', async () => {
      const {m1} = await killBetweenReceiveAndCompletion(cluster, 'ff-ha mqtt in', `ffha${major}`)
      // Queued before the sentinel, so received before it; handled after its 5 s hold.
      expect(m1().find(m => m.stage === 'received')).toMatchObject({redelivered: true})
      const handled = await until('m1 handled by the new active', () => m1().find(m => m.stage === 'handled'))
      expect(handled.redelivered).toBe(true)
      // The idempotency key is the same on both deliveries, so a flow can skip a side effect already done.
      const first = seen(`ffha${major}-m1`, 'received', cluster.replicas[0].port)!
      expect(first.redelivered).toBe(false)
      expect(first.key).toMatch(/^[0-9a-f]{32}$/)
      expect(m1().find(m => m.stage === 'received')!.key).toBe(first.key)
    }, 120_000)

    if (major === 4) {
      it('several in flight: acks leave in arrival order, so a finished message behind an unfinished one is redelivered too (a counted duplicate)', async () => {
        await cluster.restart(0)
        await cluster.replicas[1].client.setFlowsState('stop')
        const [active, spare] = cluster.replicas
        const name = 'window'
        const topic = `it/${name}/in`
        for (const r of cluster.replicas) await r.client.postFlows(flows('ff-ha mqtt in', name))
        await active.client.setFlowsState('start')
        await warmUp(topic, `${name}-warm`, active.port)

        // a1..a3 are held 5 s each; b is finished at once, behind them.
        for (const id of ['a1', 'a2', 'a3']) await observer.publishAsync(topic, JSON.stringify({id, hold: true}), {qos: 1})
        await observer.publishAsync(topic, JSON.stringify({id: 'b'}), {qos: 1})
        await until('b handled by the active', () => seen('b', 'handled', active.port))
        // All three held messages are in the flow at once (more than one in flight on one subscription).
        for (const id of ['a1', 'a2', 'a3']) expect(seen(id, 'received', active.port)).toBeDefined()
        await cluster.kill(0)
        for (const id of ['a1', 'a2', 'a3']) expect(seen(id, 'handled', active.port)).toBeUndefined()

        await spare.client.setFlowsState('start')
        await warmUp(topic, `${name}-sentinel`, spare.port)
        const redelivered = markers.filter(m => m.port === String(spare.port) && m.stage === 'received' && ['a1', 'a2', 'a3', 'b'].includes(m.id))
        expect(redelivered.map(m => m.id)).toEqual(['a1', 'a2', 'a3', 'b'])
        expect(redelivered.every(m => m.redelivered)).toBe(true)
        for (const id of ['a1', 'a2', 'a3']) await until(`${id} handled by the new active`, () => seen(id, 'handled', spare.port))
      }, 120_000)

      it('a redeploy of the input while it holds a message does not stall the connection\'s later acks', async () => {
        await cluster.restart(0)
        await cluster.replicas[1].client.setFlowsState('stop')
        const [active] = cluster.replicas
        const name = 'redeploy'
        const topic = `it/${name}/in`
        const deployed = flows('ff-ha mqtt in', name)
        await active.client.postFlows(deployed)
        await active.client.setFlowsState('start')
        await warmUp(topic, `${name}-warm`, active.port)
        await observer.publishAsync(topic, JSON.stringify({id: `${name}-held`, hold: true}), {qos: 1})
        await until('the held message received', () => seen(`${name}-held`, 'received', active.port))

        // Change only the input: a 'nodes' deploy restarts it; the broker connection (kept by mqtt out) stays.
        const changed = deployed.map(n => (n.id === 'in' ? {...n, name: 'renamed'} : n))
        const {rev} = await active.client.getFlows()
        await active.client.postFlows(changed, {rev, type: 'nodes'})
        await warmUp(topic, `${name}-warm2`, active.port)
        // More than the window (10): a held-back head would block the reader after ten.
        const ids = Array.from({length: 15}, (_, i) => `${name}-after-${i}`)
        for (const id of ids) await observer.publishAsync(topic, JSON.stringify({id}), {qos: 1})
        for (const id of ids) await until(`${id} handled`, () => seen(id, 'handled', active.port))
        // The held message's claim closed with the old input, unacked; the connection outlived it, so the new
        // input dropped the socket and the broker sent it again on the reconnect (persistent session).
        await until('the held message redelivered to the new input', () =>
          markers.find(m => m.id === `${name}-held` && m.stage === 'received' && m.redelivered && m.port === String(active.port)))
      }, 120_000)

      it('a node that never calls done() is timed out, counted in the stats, and does not hold back later messages', async () => {
        await cluster.restart(0)
        await cluster.replicas[1].client.setFlowsState('stop')
        const [active] = cluster.replicas
        const name = 'never'
        const topic = `it/${name}/in`
        await active.client.postFlows(flows('ff-ha mqtt in', name, 1))
        await active.client.setFlowsState('start')
        await warmUp(topic, `${name}-warm`, active.port)
        await observer.publishAsync(topic, JSON.stringify({id: `${name}-stuck`, never: true}), {qos: 1})
        const ids = Array.from({length: 15}, (_, i) => `${name}-after-${i}`)
        for (const id of ids) await observer.publishAsync(topic, JSON.stringify({id}), {qos: 1})
        for (const id of ids) await until(`${id} handled`, () => seen(id, 'handled', active.port))
        const counters = await settledStats(cluster, active.url, c => c.timedOut >= 1)
        // Exactly one: the stuck message. More would mean the held head stalled the others (the mqtt out on the
        // same connection waits for PUBACKs that a held socket reader never reads).
        expect(counters).toMatchObject({timedOut: 1, inFlight: 0, errors: 0})
        expect(counters.finished).toBe(counters.received)

        // The acks really left: after a kill, the new active with the same client id gets none of them again.
        await cluster.kill(0)
        const spare = cluster.replicas[1]
        await spare.client.postFlows(flows('ff-ha mqtt in', name, 1))
        await spare.client.setFlowsState('start')
        await warmUp(topic, `${name}-sentinel`, spare.port)
        expect(markers.filter(m => m.port === String(spare.port) && m.id.startsWith(`${name}-`) && !m.id.endsWith('-sentinel'))).toEqual([])
        await spare.client.setFlowsState('stop')
      }, 120_000)

      it('QoS 2: messages are handled and completed (PUBCOMP after the flow) without stalling', async () => {
        await cluster.restart(0)
        const [active] = cluster.replicas
        const name = 'qos2'
        const topic = `it/${name}/in`
        await active.client.postFlows(flows('ff-ha mqtt in', name, 30, '2'))
        await active.client.setFlowsState('start')
        await warmUp(topic, `${name}-warm`, active.port)
        const ids = Array.from({length: 15}, (_, i) => `${name}-${i}`)
        for (const id of ids) await observer.publishAsync(topic, JSON.stringify({id}), {qos: 2})
        for (const id of ids) await until(`${id} handled`, () => seen(id, 'handled', active.port))
        const counters = await settledStats(cluster, active.url)
        expect(counters).toMatchObject({timedOut: 0, errors: 0, inFlight: 0})
        expect(counters.received).toBeGreaterThanOrEqual(16)
        expect(counters.finished).toBe(counters.received)
      }, 120_000)

      it('control: core mqtt in acked on arrival, so the killed replica took the message with it', async () => {
        // Fresh roles: replica 0 back (booting stopped), replica 1's flows stopped.
        await cluster.restart(0)
        await cluster.replicas[1].client.setFlowsState('stop')
        const {spare} = await killBetweenReceiveAndCompletion(cluster, 'mqtt in', 'core')
        // The sentinel, published after the new active subscribed, is handled: anything still queued for the
        // session would have been delivered before it.
        expect(seen('core-sentinel', 'handled', spare.port)).toBeDefined()
        expect(markers.filter(m => m.id === 'core-m1' && m.port === String(spare.port))).toEqual([])
      }, 120_000)
    }
  })
}
