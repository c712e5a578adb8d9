// Mosquitto on a free port with a config of our own, and the flows the MQTT tests and bench deploy. Shared by
// test/integration/mqtt and bench/mqtt-ack.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {FlowNode} from '../src/admin/types.js'
import {waitForPort} from '../src/drill/net.js'
import {which} from '../src/drill/tools.js'
import {freePort} from '../src/net/free-port.js'

export interface TestBroker {
  url: string
  port: number
  stop(): Promise<void>
}

/** Start Mosquitto; throws (loudly, with how to get it) when it is not installed. */
export async function startMosquitto(): Promise<TestBroker> {
  const mosquitto = which('mosquitto')
  if (!mosquitto) throw new Error('mosquitto is not on PATH: these tests need a real broker (apt-get install mosquitto)')
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-mosquitto-'))
  const port = await freePort()
  writeFileSync(join(dir, 'mosquitto.conf'), [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false',
    // The bench queues thousands of QoS 1 messages for one session.
    'max_queued_messages 1000000', 'max_inflight_messages 100', '',
  ].join('\n'))
  const child: ChildProcess = spawn(mosquitto, ['-c', join(dir, 'mosquitto.conf')], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr?.on('data', d => (stderr = (stderr + d).slice(-2000)))
  try {
    await waitForPort('127.0.0.1', port, 10_000, () => child.exitCode !== null)
  } catch {
    child.kill('SIGKILL')
    throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim()}`)
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>(resolve => {
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
        })
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** The standard mqtt-broker config node: one fixed client id and a persistent session (the broker as a fence). */
export function brokerConfig(port: number, clientid: string, extra: Record<string, unknown> = {}): FlowNode {
  return {
    id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(port), clientid,
    autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false,
    autoUnsubscribe: false, birthTopic: '', closeTopic: '', willTopic: '', ...extra,
  } as FlowNode
}

/** A flow node with a position (Node-RED treats nodes without x/y as config nodes). */
export function at(node: FlowNode): FlowNode {
  return {x: 100, y: 100, z: 'tab', ...node}
}
