// Load-balanced mode: what Mosquitto does with messages in flight to a shared-subscription member that dies.
// Two real Node-RED 4.1.8 replicas run `ff-ha mqtt in` on $share/g/lb/in; every message is held 3 s by the
// flow (so none is acked); M messages are published and split over both; replica 0 is SIGKILLed; the script
// counts the messages replica 0 had received that replica 1 then handles (redispatched) and those nobody
// handles (lost). Two session kinds: clean sessions (random client ids), and a persistent session per replica
// (client id from the replica's port; replica 0 is started again after the kill to collect its own session).
// Run: node --import tsx bench/mqtt-ack/shared.ts (about a minute).
import mqtt from 'mqtt'
import type {FlowNode} from '../../src/admin/types.js'
import {startReplicas} from '../../harness/replicas.js'
import {at, brokerConfig, startMosquitto} from '../../harness/mosquitto.js'

const M = 20
type Marker = {id: string; port: string; stage: string}

const broker = await startMosquitto()
const observer = await mqtt.connectAsync(broker.url, {clientId: 'lb-observer', clean: true})
const markers: Marker[] = []
await observer.subscribeAsync('lb/+', {qos: 1})
observer.on('message', (topic, payload) => markers.push({...JSON.parse(payload.toString()), stage: topic.split('/')[1]}))

function flows(clientid: string, clean: boolean): FlowNode[] {
  const marker = (stage: string) => `{topic: 'lb/${stage}', payload: {id: msg.payload.id, port: env.get('FF_HA_NODE_RED_PORT')}}`
  return [
    {id: 'tab', type: 'tab', label: 'lb'},
    brokerConfig(broker.port, clientid, {cleansession: clean, protocolVersion: '5'}),
    at({id: 'in', type: 'ff-ha mqtt in', topic: '$share/g/lb/in', qos: '1', datatype: 'json', broker: 'broker', inflight: 100, nodeTimeout: 30, wires: [['mark', 'hold']]}),
    at({id: 'mark', type: 'function', func: `return ${marker('received')};`, outputs: 1, wires: [['out']]}),
    at({id: 'hold', type: 'function', outputs: 1, wires: [['out']], func: `setTimeout(() => { node.send(${marker('handled')}); node.done() }, msg.payload.warm ? 0 : 3000);\nreturn null;`}),
    at({id: 'out', type: 'mqtt out', broker: 'broker', qos: '1', retain: 'false', wires: []}),
  ]
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
async function until(what: string, ok: () => boolean, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await sleep(50)
  }
}

for (const kind of ['clean sessions', 'persistent session per replica'] as const) {
  markers.length = 0
  const cluster = await startReplicas(2, {prefix: 'lb'})
  try {
    const [r0, r1] = cluster.replicas
    const clean = kind === 'clean sessions'
    // Node-RED substitutes an env var only for a whole property value: the client id is the replica's port.
    const f = flows(clean ? '' : '${FF_HA_NODE_RED_PORT}', clean)
    for (const r of cluster.replicas) {
      await r.client.postFlows(f)
      await r.client.setFlowsState('start')
    }
    // Both members subscribed: warm-up messages handled by each.
    for (let i = 0; !(markers.some(m => m.port === String(r0.port)) && markers.some(m => m.port === String(r1.port))); i++) {
      if (i > 200) throw new Error('members did not both subscribe')
      await observer.publishAsync('lb/in', JSON.stringify({id: `warm-${i}`, warm: true}), {qos: 1})
      await sleep(50)
    }
    const ids = Array.from({length: M}, (_, i) => `${kind}-${i}`)
    for (const id of ids) await observer.publishAsync('lb/in', JSON.stringify({id}), {qos: 1})
    await until('all received', () => ids.every(id => markers.some(m => m.id === id && m.stage === 'received')))
    const onR0 = ids.filter(id => markers.some(m => m.id === id && m.stage === 'received' && m.port === String(r0.port)))
    await cluster.kill(0)
    const markedBeforeKill = markers.length
    if (!clean) {
      // The member's own session holds its unacked messages: only that client id gets them, when it is back.
      await cluster.restart(0)
      await cluster.replicas[0].client.setFlowsState('start')
    }
    await sleep(12_000)
    const handled = (id: string) => markers.some(m => m.id === id && m.stage === 'handled')
    const redispatched = onR0.filter(id => markers.some(m => m.id === id && m.stage === 'handled' && m.port === String(r1.port)))
    const lost = ids.filter(id => !handled(id))
    const byRestarted = onR0.filter(id => markers.some(m => m.id === id && m.stage === 'handled' && m.port === String(cluster.replicas[0].port)))
    const receivedAgain = new Set(markers.slice(markedBeforeKill).filter(m => m.stage === 'received' && onR0.includes(m.id)).map(m => m.id)).size
    console.log(`${kind}: ${M} messages, ${onR0.length} in flight on the killed member; received again after the kill: ${receivedAgain}; handled by the other member: ${redispatched.length}; by the killed member's own session after restart: ${clean ? 'n/a' : byRestarted.length}; lost: ${lost.length}`)
  } finally {
    await cluster.stop()
  }
}
await observer.endAsync()
await broker.stop()
