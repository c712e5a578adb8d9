import mqtt, {type MqttClient} from 'mqtt'
import {now, sleep} from '../clock.js'
import {probeTopics} from '../probe.js'
import type {MqttRecord} from '../types.js'
import {TimeoutError} from '../../errors.js'

// MQTT QoS 1 traffic with sequence numbers: one client publishes to the probe's request topic, another
// collects the echoes from the reply topic. A message the broker acknowledged and nobody echoed is lost;
// a second echo is a duplicate. Both clients live for the whole drill; publishing runs per iteration.

export interface MqttTraffic {
  /** Start publishing at the rate into a fresh record list. */
  begin(): void
  /** Stop publishing, wait until every acked message is echoed (or drainMs of silence), return the records. */
  end(drainMs?: number): Promise<MqttRecord[]>
  close(): Promise<void>
}

export async function connectMqttTraffic(options: {url: string; runId: string; rate: number}): Promise<MqttTraffic> {
  const {request, reply} = probeTopics(options.runId)
  const publisher = await connect(options.url, `ff-ha-drill-pub-${options.runId}`)
  const collector = await connect(options.url, `ff-ha-drill-sub-${options.runId}`)
  await collector.subscribeAsync(reply, {qos: 1})
  const bySeq = new Map<number, MqttRecord>()
  let lastEcho = 0
  collector.on('message', (_topic, payload) => {
    try {
      const body = JSON.parse(payload.toString()) as {seq?: number; replica?: string}
      const record = typeof body.seq === 'number' ? bySeq.get(body.seq) : undefined
      lastEcho = now()
      if (record) record.echoes.push({t: lastEcho, replica: body.replica ?? 'unknown'})
    } catch {
      // not ours
    }
  })
  let seq = 0
  let current: MqttRecord[] = []
  let timer: NodeJS.Timeout | undefined
  const publishOne = () => {
    const record: MqttRecord = {seq: ++seq, t: now(), echoes: []}
    bySeq.set(record.seq, record)
    current.push(record)
    publisher.publish(request, JSON.stringify({seq: record.seq}), {qos: 1}, err => {
      if (!err) record.pubackAt = now()
    })
  }
  return {
    begin() {
      current = []
      timer = setInterval(publishOne, Math.max(1, 1000 / options.rate))
    },
    async end(drainMs = 3000) {
      if (timer) clearInterval(timer)
      timer = undefined
      const records = current
      const since = now()
      // wait for pubacks and echoes; give up after drainMs without a new echo
      for (;;) {
        const pending = records.some(r => r.pubackAt === undefined || r.echoes.length === 0)
        const quietFor = now() - Math.max(lastEcho, since)
        if (!pending || quietFor > drainMs) break
        await sleep(50)
      }
      // a short extra wait catches duplicates that follow the first echo
      await sleep(200)
      return records
    },
    async close() {
      if (timer) clearInterval(timer)
      await Promise.allSettled([publisher.endAsync(true), collector.endAsync(true)])
    },
  }
}

async function connect(url: string, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(url, {clientId, protocolVersion: 5, clean: true, reconnectPeriod: 200, connectTimeout: 5000})
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
      setTimeout(() => reject(new TimeoutError(`cannot connect to the MQTT broker at ${url} within 5 s`, 5000, {hint: 'is the broker (mosquitto) running there?'})), 5000)
    })
  } catch (err) {
    client.end(true)
    throw err
  }
  return client
}
