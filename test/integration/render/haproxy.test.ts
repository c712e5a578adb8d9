import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {parseProfileText} from '../../../src/profile/load.js'
import {checkIntervalMs, checkTimeoutMs} from '../../../src/model/proxy-checks.js'
import {renderHaproxyConfig} from '../../../src/render/haproxy.js'

const dir = mkdtempSync(join(tmpdir(), 'ff-ha-haproxy-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

async function haproxyCheck(config: string): Promise<{exitCode: number; output: string}> {
  const file = join(dir, `haproxy-${Math.random().toString(36).slice(2)}.cfg`)
  writeFileSync(file, config)
  const r = await execa('haproxy', ['-c', '-f', file], {reject: false, all: true})
  return {exitCode: r.exitCode ?? -1, output: r.all ?? ''}
}

const composeServers = [0, 1, 2].map(i => ({name: `app-${i}`, address: `app-${i}`, port: 1880, checkPort: 9880}))
const localServers = [0, 1].map(i => ({name: `r${i}`, address: '127.0.0.1', port: 20000 + i, checkPort: 21000 + i}))

describe('renderHaproxyConfig', () => {
  const variants = [
    'mode: hot-spare',
    'mode: load-balanced',
    'mode: load-balanced\nhttp: {editor: false}',
    'mode: load-balanced\nhttp: {editor: false, sticky: false}',
    'mode: load-balanced\nnodeRed: {adminRoot: /admin}',
  ]
  for (const variant of variants) {
    for (const resolvers of [true, false]) {
      it(`passes haproxy -c for "${variant.replace(/\n/g, '; ')}" with resolvers ${resolvers}`, async () => {
        const profile = parseProfileText(`name: app\n${variant}\n`)
        const config = renderHaproxyConfig(profile, {
          servers: resolvers ? composeServers : localServers,
          bindPort: 1880,
          bindAddress: resolvers ? undefined : '127.0.0.1',
          statsPort: 8404,
          resolvers,
        })
        const r = await haproxyCheck(config)
        expect(r.output).toContain('Configuration file is valid')
        expect(r.exitCode).toBe(0)
      })
    }
  }

  it('hot-spare routes only to the replica whose agent answers /active, checking every 100 ms and failing at once', () => {
    const config = renderHaproxyConfig(parseProfileText('name: app\n'), {servers: localServers, bindPort: 1880})
    expect(config).toContain('http-check send meth GET uri /active')
    expect(config).toMatch(/default-server inter 100ms .*fall 1 rise 1/)
    expect(config).toContain('server r0 127.0.0.1:20000 check port 21000')
    expect(config).not.toContain('resolvers docker')
    expect(config).not.toContain('cookie')
    expect(config).not.toContain(' 404') // a 404 from the only active is the flow's own answer
  })

  it('load-balanced retries a 404 (flows restarting in a rolling deploy), a refused connection or an empty answer on another replica', () => {
    const config = renderHaproxyConfig(parseProfileText('name: app\nmode: load-balanced\n'), {servers: localServers, bindPort: 1880})
    const backend = config.slice(config.indexOf('\nbackend replicas'), config.indexOf('\nbackend sticky'))
    expect(backend).toContain('    retry-on conn-failure 404\n')
    expect(backend).toContain('    option redispatch 1\n')
    expect(backend).toContain('    option http-buffer-request\n')
  })

  it('load-balanced checks /healthz round-robin and pins the editor, Dashboard and websockets with a cookie', () => {
    const config = renderHaproxyConfig(parseProfileText('name: app\nmode: load-balanced\n'), {servers: composeServers, bindPort: 1880, resolvers: true})
    expect(config).toContain('http-check send meth GET uri /healthz')
    expect(config).toContain('balance roundrobin')
    expect(config).toContain('cookie FFHA_REPLICA insert indirect nocache httponly')
    expect(config).toContain('use_backend sticky if editor || dashboard || websocket')
    expect(config).toContain('option redispatch')
    expect(config).toContain('nameserver dns 127.0.0.11:53')
    expect(config).toMatch(/init-addr none/)
  })

  it('pins every route of the editor that needs its login (sessions are per replica), with or without a query or a slash', () => {
    const config = renderHaproxyConfig(parseProfileText('name: app\nmode: load-balanced\n'), {servers: localServers, bindPort: 1880})
    const prefixes = config.split('\n').filter(l => l.trim().startsWith('acl editor path_beg')).flatMap(l => l.trim().split(/\s+/).slice(3))
    // @node-red/editor-api's authenticated routes (admin/index.js, editor/index.js). GET /icons was sent round
    // robin once ('/icons/' matched only the icon files) and answered 401 on the other replica.
    for (const path of ['/icons', '/flow', '/flow/abc', '/flows', '/flows/state', '/nodes', '/settings', '/settings/user', '/plugins/messages', '/auth/token', '/context/flow/x', '/library/flows', '/diagnostics', '/projects', '/comms']) {
      expect(prefixes.some(p => path.startsWith(p)), path).toBe(true)
    }
  })

  it('without sticky sessions there is no cookie backend', () => {
    const config = renderHaproxyConfig(parseProfileText('name: app\nmode: load-balanced\nhttp: {editor: false, sticky: false}\n'), {servers: localServers, bindPort: 1880})
    expect(config).not.toContain('backend sticky')
    expect(config).not.toContain('cookie')
  })

  it('derives the check interval from the MTTR the profile asks for, between 100 ms and 2 s', () => {
    expect(checkIntervalMs(parseProfileText('name: a\n'))).toBe(100)
    expect(checkIntervalMs(parseProfileText('name: a\nslo: {maxMttrMs: 30000}\n'))).toBe(600)
    expect(checkIntervalMs(parseProfileText('name: a\nslo: {maxMttrMs: 1000000}\n'))).toBe(2000)
  })

  it('gives a check 500 ms (or the interval, if longer) to answer: a late answer must not take a replica out', () => {
    expect(renderHaproxyConfig(parseProfileText('name: a\n'), {servers: localServers, bindPort: 1880})).toMatch(/ timeout check 500ms\n[^]*inter 100ms /)
    expect(checkTimeoutMs(parseProfileText('name: a\nslo: {maxMttrMs: 1000000}\n'))).toBe(2000)
  })

  it('the template is itself a valid haproxy.cfg', async () => {
    const {readFileSync} = await import('node:fs')
    const {templatesDir} = await import('../../../src/paths.js')
    const r = await haproxyCheck(readFileSync(join(templatesDir, 'haproxy', 'haproxy.cfg'), 'utf8'))
    expect(r.exitCode).toBe(0)
  })
})
