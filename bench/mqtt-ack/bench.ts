// Messages/s for core `mqtt in` vs `ff-ha mqtt in` (acks after the flow is done), on one real Node-RED 4.1.8
// replica and a real Mosquitto. Each run: the flows subscribe once (persistent session), stop, N QoS 1
// messages are queued at the broker, then the flows start and drain them; the time is from the start request
// to the last message counted by the flow. Mosquitto has max_inflight_messages 100, so the broker keeps up to
// 100 unacked messages on the wire. Flows: simple (in -> change -> count) and slow (in -> function that waits
// 5 ms -> count). Variants run interleaved, round after round, so that load from elsewhere on the machine
// falls on all of them alike. Options: --messages N (default 5000), --runs R (default 3; the median is printed).
import {loadavg} from 'node:os'
import mqtt from 'mqtt'
import type {FlowNode} from '../../src/admin/types.js'
import {startReplicas} from '../../harness/replicas.js'
import {at, brokerConfig, startMosquitto} from '../../harness/mosquitto.js'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const N = arg('messages', 5000)
const RUNS = arg('runs', 3)

type Variant = {label: string; type: 'mqtt in' | 'ff-ha mqtt in'; inflight?: number; slowMs?: number; messages?: number}

function flows(v: Variant, port: number, clientid: string, n: number): FlowNode[] {
  const work = v.slowMs
    ? at({id: 'work', type: 'function', outputs: 1, wires: [['count']], func: `setTimeout(() => { node.send(msg); node.done() }, ${v.slowMs}); return null;`})
    : at({id: 'work', type: 'change', rules: [{t: 'set', p: 'seen', pt: 'msg', to: 'true', tot: 'bool'}], wires: [['count']]})
  return [
    {id: 'tab', type: 'tab', label: 'bench'},
    brokerConfig(port, clientid),
    at({id: 'in', type: v.type, topic: 'bench/in', qos: '1', datatype: 'utf8', broker: 'broker', inflight: v.inflight ?? 10, nodeTimeout: 30, wires: [['work']]}),
    work,
    at({
      id: 'count', type: 'function', outputs: 1, wires: [['out']], initialize: "context.set('c', 0)",
      func: `const c = context.get('c') + 1; context.set('c', c); return c === ${n} ? {topic: 'bench/done', payload: String(c)} : null;`,
    }),
    at({id: 'out', type: 'mqtt out', broker: 'broker', qos: '1', retain: 'false', wires: []}),
  ]
}

const variants: Variant[] = [
  {label: 'simple flow, core mqtt in', type: 'mqtt in'},
  {label: 'simple flow, ff-ha mqtt in, 10 in flight', type: 'ff-ha mqtt in', inflight: 10},
  {label: 'simple flow, ff-ha mqtt in, 1 in flight', type: 'ff-ha mqtt in', inflight: 1},
  {label: 'slow flow (5 ms), core mqtt in', type: 'mqtt in', slowMs: 5, messages: 1000},
  {label: 'slow flow (5 ms), ff-ha mqtt in, 10 in flight', type: 'ff-ha mqtt in', inflight: 10, slowMs: 5, messages: 1000},
  {label: 'slow flow (5 ms), ff-ha mqtt in, 100 in flight', type: 'ff-ha mqtt in', inflight: 100, slowMs: 5, messages: 1000},
  {label: 'slow flow (5 ms), ff-ha mqtt in, 1 in flight', type: 'ff-ha mqtt in', inflight: 1, slowMs: 5, messages: 200},
]

const broker = await startMosquitto()
const cluster = await startReplicas(1, {prefix: 'bench-mqtt'})
const replica = cluster.replicas[0]
const pub = await mqtt.connectAsync(broker.url, {clientId: 'bench-pub', clean: true})
const rates = new Map<Variant, number[]>(variants.map(v => [v, []]))
console.log(`load average at start: ${loadavg().map(l => l.toFixed(1)).join(' ')} (2 cores)`)
try {
  let session = 0
  for (let run = 0; run < RUNS; run++) {
    for (const v of variants) {
      const n = v.messages ?? N
      const clientid = `bench-${session++}`
      await replica.client.postFlows(flows(v, broker.port, clientid, n))
      // Subscribe once so that the broker queues for the session, then stop to queue the batch.
      await replica.client.setFlowsState('start')
      await new Promise(r => setTimeout(r, 1000))
      await replica.client.setFlowsState('stop')
      const watcher = await mqtt.connectAsync(broker.url, {clientId: `bench-watch-${clientid}`, clean: true})
      await watcher.subscribeAsync('bench/done', {qos: 1})
      const done = new Promise<number>(resolve => watcher.once('message', () => resolve(performance.now())))
      const payload = 'x'.repeat(64)
      await Promise.all(Array.from({length: n}, () => pub.publishAsync('bench/in', payload, {qos: 1})))
      const t0 = performance.now()
      await replica.client.setFlowsState('start')
      const t1 = await done
      await watcher.endAsync(true)
      rates.get(v)!.push(n / ((t1 - t0) / 1000))
      await replica.client.setFlowsState('stop')
    }
  }
  const median = (v: Variant) => {
    const r = [...rates.get(v)!].sort((a, b) => a - b)
    return r[Math.floor(r.length / 2)]
  }
  for (const v of variants) {
    console.log(`${v.label.padEnd(48)} ${String(Math.round(median(v))).padStart(7)} msg/s  (runs: ${rates.get(v)!.map(r => Math.round(r)).join(', ')}; ${v.messages ?? N} messages)`)
  }
  console.log(`load average at end: ${loadavg().map(l => l.toFixed(1)).join(' ')}`)
  const byLabel = (label: string) => median(variants.find(v => v.label === label)!)
  const by = byLabel
  console.log('')
  console.log(`simple flow: core / ff-ha (10 in flight) = ${(by('simple flow, core mqtt in') / by('simple flow, ff-ha mqtt in, 10 in flight')).toFixed(2)}x (target: within 2x)`)
  console.log(`simple flow: core / ff-ha (1 in flight)  = ${(by('simple flow, core mqtt in') / by('simple flow, ff-ha mqtt in, 1 in flight')).toFixed(2)}x`)
  console.log(`slow flow:   core / ff-ha (10 in flight) = ${(by('slow flow (5 ms), core mqtt in') / by('slow flow (5 ms), ff-ha mqtt in, 10 in flight')).toFixed(2)}x`)
  console.log(`slow flow:   core / ff-ha (100 in flight) = ${(by('slow flow (5 ms), core mqtt in') / by('slow flow (5 ms), ff-ha mqtt in, 100 in flight')).toFixed(2)}x`)
} finally {
  await pub.endAsync()
  await cluster.stop()
  await broker.stop()
}

