import type {ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {AdminClient} from '../../../src/admin/client.js'
import {freePort} from '../../../src/net/free-port.js'
import {spawnNodeRed, stopChild, waitForFlowsLoaded} from '../../../src/nodered/launch.js'
import {RENDERED} from '../../../src/render/names.js'
import {goldenCases} from '../../golden/cases.js'

// The settings.js that render writes, booted in real Node-RED 4.1 (the project's dependency).
const children: ChildProcess[] = []
const clients: AdminClient[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()))
  await Promise.all(children.splice(0).map(c => stopChild(c, 3000)))
  dirs.splice(0).forEach(d => rmSync(d, {recursive: true, force: true}))
})

const golden = (name: string) => goldenCases().find(c => c.name === name)!

async function boot(caseName: string, env: Record<string, string>) {
  const c = golden(caseName)
  const userDir = mkdtempSync(join(tmpdir(), 'ff-ha-settings-'))
  dirs.push(userDir)
  writeFileSync(join(userDir, 'settings.js'), c.files[RENDERED.settings])
  const port = await freePort()
  const child = spawnNodeRed({userDir, port, env, writeSettings: false})
  children.push(child)
  const base = `http://127.0.0.1:${port}${c.profile.nodeRed.adminRoot.replace(/\/?$/, '/')}`
  const client = new AdminClient({name: caseName, url: base}, {auth: {token: Object.values(env)[0]}, retries: 0})
  clients.push(client)
  return {c, userDir, port, base, child, client}
}

describe('the rendered settings.js in real Node-RED 4.1', () => {
  it('default profile: boots with flows stopped, the shared token works, no token is 401, runtime state API on', async () => {
    const token = 'tok-' + Math.random().toString(36).slice(2)
    const {base, client, child} = await boot('compose-hot-spare', {FF_HA_ADMIN_TOKEN: token, FF_HA_CREDENTIAL_SECRET: 'cs-1'})
    await waitForFlowsLoaded(client, {child, state: 'stop'})
    const settings = (await (await fetch(`${base}settings`, {headers: {authorization: `Bearer ${token}`}})).json()) as Record<string, any>
    expect(settings.runtimeState).toEqual({enabled: true, ui: false})
    expect(settings.httpNodeRoot).toBe('/')
    expect(settings.context.default).toBe('default')
    expect((await fetch(`${base}settings`)).status).toBe(401)
    expect((await fetch(`${base}settings`, {headers: {authorization: 'Bearer wrong'}})).status).toBe(401)
    const state = await fetch(`${base}flows/state`, {headers: {authorization: `Bearer ${token}`}})
    expect(await state.json()).toEqual({state: 'stop'})
    // The runtime state API answers POST (it is an HTML 404 when runtimeState is off).
    expect(await client.setFlowsState('start')).toBe('start')
  })

  it('custom profile: admin root, extra settings, its own env names, explicit flowFile, file context, no editor', async () => {
    const token = 'api-' + Math.random().toString(36).slice(2)
    const {base, client, child, userDir, port} = await boot('compose-load-balanced-custom', {API_ADMIN_TOKEN: token, API_CREDENTIAL_SECRET: 'cs-2'})
    await waitForFlowsLoaded(client, {child, state: 'stop'})
    const settings = await client.getSettings()
    expect(settings.httpNodeRoot).toBe('/api/')
    expect(await client.getFlowsState()).toBe('stop')
    // The editor is off: the admin root serves no editor page, the API still answers.
    expect((await fetch(base)).status).toBe(404)
    await client.postFlows([{id: 't1', type: 'tab', label: 'one'}], {})
    const deadline = Date.now() + 10_000
    while (!existsSync(join(userDir, 'api-flows.json')) && Date.now() < deadline) await new Promise(r => setTimeout(r, 50))
    expect(JSON.parse(readFileSync(join(userDir, 'api-flows.json'), 'utf8'))).toEqual([{id: 't1', type: 'tab', label: 'one'}])
    expect(existsSync(join(userDir, `flows_${(await import('node:os')).hostname()}.json`))).toBe(false)
    expect(port).toBeGreaterThan(0)
  })

  it('refuses to start without the credential secret, naming the variable', async () => {
    const {child, userDir} = await boot('compose-hot-spare', {FF_HA_ADMIN_TOKEN: 'x'})
    const code = await new Promise<number | null>(resolve => child.once('exit', c => resolve(c)))
    expect(code).not.toBe(0)
    expect(readFileSync(join(userDir, 'node-red.log'), 'utf8')).toContain('FF_HA_CREDENTIAL_SECRET is not set')
  })
})
