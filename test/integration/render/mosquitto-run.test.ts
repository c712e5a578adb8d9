import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa, type ResultPromise} from 'execa'
import mqtt from 'mqtt'
import {afterEach, describe, expect, it} from 'vitest'
import {freePort} from '../../../src/net/free-port.js'
import {renderMosquittoConfig} from '../../../src/render/mosquitto.js'

let broker: ResultPromise | undefined
let dir: string | undefined
const clients: mqtt.MqttClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.endAsync(true)))
  broker?.kill('SIGKILL')
  await broker?.catch(() => undefined)
  broker = undefined
  if (dir) rmSync(dir, {recursive: true, force: true})
})

async function connect(url: string, clientId: string): Promise<mqtt.MqttClient> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      const c = await mqtt.connectAsync(url, {protocolVersion: 5, clientId, reconnectPeriod: 0, connectTimeout: 2000})
      clients.push(c)
      return c
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise(r => setTimeout(r, 50))
    }
  }
}

describe('the rendered mosquitto.conf under real Mosquitto 2.0', () => {
  it('starts on the given port with persistence, accepts anonymous MQTT v5 clients and splits a shared subscription', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-mosquitto-'))
    const port = await freePort()
    const file = join(dir, 'mosquitto.conf')
    writeFileSync(file, renderMosquittoConfig({port, bindAddress: '127.0.0.1', persistence: true, dataDir: dir}))
    broker = execa('mosquitto', ['-c', file], {reject: false, stdio: 'ignore'})
    const url = `mqtt://127.0.0.1:${port}`
    const counts = [0, 0]
    const subs = [await connect(url, 's0'), await connect(url, 's1')]
    for (const [i, s] of subs.entries()) {
      s.on('message', () => counts[i]++)
      await s.subscribeAsync('$share/app/t/#', {qos: 1})
    }
    const pub = await connect(url, 'p')
    for (let i = 0; i < 20; i++) await pub.publishAsync(`t/${i}`, String(i), {qos: 1})
    const deadline = Date.now() + 10_000
    while (counts[0] + counts[1] < 20 && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
    expect(counts[0] + counts[1]).toBe(20)
    expect(counts[0]).toBeGreaterThan(0)
    expect(counts[1]).toBeGreaterThan(0)
  })

  it('renders persistence off by default and the listener on every address', () => {
    const conf = renderMosquittoConfig({port: 1883})
    expect(conf).toMatch(/^listener 1883$/m)
    expect(conf).toMatch(/^persistence false$/m)
    expect(conf).toMatch(/^allow_anonymous true$/m)
  })
})
