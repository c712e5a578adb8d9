import {createServer, type Server} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {Witness, parseWitness, probeTcp} from '../../../src/agent/witness.js'
import {freePort} from '../../../src/net/free-port.js'
import {FakeClock} from './fakes.js'

describe('witness: the address an active replica must reach to keep its lease', () => {
  let server: Server | null = null
  afterEach(async () => {
    if (server) await new Promise(r => server!.close(r))
    server = null
  })

  it('parses host:port', () => {
    expect(parseWitness('haproxy:8404')).toEqual({host: 'haproxy', port: 8404})
    expect(parseWitness('10.0.0.1:1883')).toEqual({host: '10.0.0.1', port: 1883})
  })

  it('probes a real TCP listener: open is reachable, closed is not', async () => {
    const port = await freePort()
    expect(await probeTcp('127.0.0.1', port, 200)).toBe(false)
    server = createServer(s => s.destroy())
    await new Promise<void>(r => server!.listen(port, '127.0.0.1', r))
    expect(await probeTcp('127.0.0.1', port, 200)).toBe(true)
  })

  it('is reachable for renewDeadline after the last successful probe, then not (fake clock)', async () => {
    const clock = new FakeClock()
    let up = true
    const w = new Witness('w:1', clock, 1500, 200, async () => up)
    expect(w.reachable()).toBe(false) // never reached yet: a candidate must not acquire
    await w.check()
    expect(w.reachable()).toBe(true)
    up = false
    for (let t = 0; t < 1400; t += 200) {
      clock.advance(200)
      await w.check()
    }
    expect(w.reachable()).toBe(true) // 1400 ms since the last success
    clock.advance(200)
    await w.check()
    expect(w.reachable()).toBe(false) // 1600 ms: stop renewing and release
    expect(w.failures).toBe(8)
    up = true
    await w.check()
    expect(w.reachable()).toBe(true)
  })

  it('counts a success from when the probe STARTED, so a slow connect does not extend the window', async () => {
    const clock = new FakeClock()
    const w = new Witness('w:1', clock, 1500, 200, async () => {
      clock.advance(1000)
      return true
    })
    await w.check()
    clock.advance(600)
    expect(w.reachable()).toBe(false) // started at 1000, now 2600
  })
})
