import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {pollUntil} from '../../../src/io/poll.js'
import {startBuiltinProxy, type RunningProxy} from '../../../src/drill/proxy/builtin.js'
import {freePort} from '../../../src/net/free-port.js'

// Real sockets: two tiny "replicas" (an app port and an agent port each) behind the built-in proxy.
const servers: http.Server[] = []
let proxy: RunningProxy | undefined

afterEach(async () => {
  await proxy?.stop()
  proxy = undefined
  await Promise.all(servers.splice(0).map(s => new Promise(r => s.close(r))))
})

async function listen(handler: http.RequestListener): Promise<number> {
  const s = http.createServer(handler)
  servers.push(s)
  await new Promise<void>(r => s.listen(0, '127.0.0.1', () => r()))
  return (s.address() as AddressInfo).port
}

async function replica(name: string, state: {active: boolean}) {
  const port = await listen((_req, res) => res.end(name))
  const checkPort = await listen((req, res) => {
    res.statusCode = req.url === '/active' ? (state.active ? 200 : 503) : 200
    res.end()
  })
  return {name, address: '127.0.0.1', port, checkPort}
}

async function get(url: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    http.get(url, {agent: false}, res => {
      let body = ''
      res.on('data', d => (body += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    }).on('error', reject)
  })
}

describe('built-in proxy (HAProxy check semantics)', () => {
  it('hot-spare: routes to the server whose agent answers /active 200, follows a change within a few checks, 503 when none', async () => {
    const a = {active: true}
    const b = {active: false}
    proxy = await startBuiltinProxy({mode: 'hot-spare', servers: [await replica('a', a), await replica('b', b)], bindPort: await freePort()})
    await pollUntil(() => proxy!.up().length === 1, {timeoutMs: 2000, what: 'a up'})
    expect(await get(proxy.url)).toEqual({status: 200, body: 'a'})
    a.active = false
    b.active = true
    const t0 = Date.now()
    await pollUntil(async () => (await get(proxy!.url)).body === 'b', {timeoutMs: 2000, what: 'the proxy following the new active'})
    expect(Date.now() - t0).toBeLessThan(1000)
    b.active = false
    await pollUntil(() => proxy!.up().length === 0, {timeoutMs: 2000, what: 'b down'})
    expect((await get(proxy.url)).status).toBe(503)
  })

  it('load-balanced: round-robin over healthy servers, and a refused connection is retried on another one', async () => {
    const healthy = {active: true}
    const a = await replica('a', healthy)
    const dead = {...(await replica('b', healthy)), port: await freePort()} // its app port refuses
    proxy = await startBuiltinProxy({mode: 'load-balanced', servers: [a, dead], bindPort: await freePort()})
    await pollUntil(() => proxy!.up().length === 2, {timeoutMs: 2000, what: 'both servers up'})
    const bodies = await Promise.all(Array.from({length: 6}, () => get(proxy!.url)))
    expect(bodies.every(b => b.status === 200 && b.body === 'a')).toBe(true)
  })

  it('load-balanced: a 404 (flows restarting on one replica) is retried on another; a 404 from every replica reaches the client', async () => {
    const healthy = {active: true}
    const a = await replica('a', healthy)
    let bAnswers404 = true
    const bPort = await listen((req, res) => {
      if (bAnswers404) res.writeHead(404).end('Cannot GET ' + req.url)
      else res.writeHead(404).end('b')
    })
    const bCheck = await listen((_req, res) => res.end())
    let aAnswers404 = false
    const aPort = await listen((req, res) => (aAnswers404 ? res.writeHead(404).end('Cannot GET ' + req.url) : res.end('a')))
    proxy = await startBuiltinProxy({mode: 'load-balanced', servers: [{...a, port: aPort}, {name: 'b', address: '127.0.0.1', port: bPort, checkPort: bCheck}], bindPort: await freePort()})
    await pollUntil(() => proxy!.up().length === 2, {timeoutMs: 2000, what: 'both servers up'})
    const answers = await Promise.all(Array.from({length: 6}, () => get(proxy!.url)))
    expect(answers).toEqual(Array.from({length: 6}, () => ({status: 200, body: 'a'})))
    aAnswers404 = true
    bAnswers404 = false
    expect((await get(proxy.url)).status).toBe(404)
  })
})
