import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {RemoteError} from '../errors.js'
import {freePort} from '../net/free-port.js'
import {renderMosquittoConfig} from '../render/mosquitto.js'
import {waitForPort} from './net.js'
import type {Resources} from './processes.js'
import {firstLine, which} from './tools.js'

// The broker for MQTT traffic: Mosquitto on a free port with a generated config when it is on PATH, the
// profile's broker URL otherwise, else none (MQTT traffic off, and the report says why).

export interface Broker {
  /** URL for the drill's own clients. */
  url: string
  /** Host and port as the replicas reach it. */
  host: string
  port: number
  description: string
}

export type BrokerChoice = {broker: Broker} | {off: string}

export async function startBroker(options: {
  profileBrokerUrl?: string
  want: 'auto' | 'mosquitto' | 'off'
  dir: string
  resources: Resources
  /** Address to listen on (the bridge's address when replicas live in network namespaces). */
  bindAddress?: string
  /** How replicas reach this host (default 127.0.0.1). */
  hostForReplicas?: string
}): Promise<BrokerChoice> {
  if (options.want === 'off') return {off: 'off: --traffic without mqtt'}
  const mosquitto = which('mosquitto')
  if (mosquitto) {
    const port = await freePort()
    const bind = options.bindAddress ?? '127.0.0.1'
    const file = join(options.dir, 'mosquitto.conf')
    writeFileSync(file, renderMosquittoConfig({port, bindAddress: bind}) + '\n# drill: queue enough QoS 1 messages for a takeover\nmax_queued_messages 100000\n')
    const child = options.resources.spawn(mosquitto, ['-c', file], {stderr: 'pipe'})
    let stderr = ''
    child.stderr?.on('data', d => (stderr = (stderr + d).slice(-2000)))
    const local = bind === '0.0.0.0' ? '127.0.0.1' : bind
    try {
      await waitForPort(local, port, 10_000, () => child.exitCode !== null)
    } catch {
      throw new RemoteError(`mosquitto did not start on ${bind}:${port}: ${stderr.trim().split('\n').pop() ?? 'no output'}`)
    }
    const version = firstLine(mosquitto, ['-h'])?.match(/\d+\.\d+\.\d+/)?.[0]
    const host = options.hostForReplicas ?? local
    return {broker: {url: `mqtt://${local}:${port}`, host, port, description: `mosquitto${version ? ` ${version}` : ''} on ${local}:${port}`}}
  }
  if (options.want === 'mosquitto') throw new RemoteError('mosquitto is not on PATH', {hint: 'install it (apt-get install mosquitto) or drop mqtt from --traffic'})
  if (options.profileBrokerUrl) {
    const u = new URL(options.profileBrokerUrl.replace(/^tcp:/, 'mqtt:'))
    return {broker: {url: u.href, host: u.hostname, port: Number(u.port || 1883), description: `the profile's broker ${u.host}`}}
  }
  return {off: 'off: mosquitto is not on PATH and the profile has no mqtt.broker'}
}
