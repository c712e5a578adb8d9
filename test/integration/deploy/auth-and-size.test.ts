// ff-ha deploy against real Node-RED 4: replicas with and without adminAuth (a development instance must
// survive a deploy), and flows files larger than Node-RED's default apiMaxLength.
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {AdminError} from '../../../src/admin/errors.js'
import {deployFlows} from '../../../src/deploy/deploy.js'
import {freePorts} from '../../../src/net/free-port.js'
import {launchNodeRed, type LaunchedNodeRed} from '../../../src/nodered/launch.js'
import {DEFAULT_SETTINGS_VALUES} from '../../../src/model/settings.js'
import {packageRoot} from '../../../src/paths.js'
import {probeFlows} from '../../../harness/agents.js'
import {bigFlows} from '../../../harness/big-flows.js'

const run = promisify(execFile)
const TOKEN = 'auth-and-size-token-0123456789'
const SECRET = 'auth-and-size-secret-0123456789'
const env = {FF_HA_ADMIN_TOKEN: TOKEN, FF_HA_CREDENTIAL_SECRET: SECRET, FF_HA_NODE_RED_LOG_LEVEL: 'warn'}

// A development instance: no adminAuth at all, the runtime state API on (deploy needs it).
const NO_AUTH_SETTINGS = `module.exports = {
  uiPort: Number(process.env.FF_HA_NODE_RED_PORT), uiHost: '127.0.0.1', flowFile: 'flows.json',
  credentialSecret: 'dev-secret', runtimeState: {enabled: true, ui: false},
  logging: {console: {level: 'warn'}}, editorTheme: {tours: false},
}
`

describe('deploy to replicas with and without adminAuth (real Node-RED 4)', () => {
  let dir: string
  let withAuth: LaunchedNodeRed
  let noAuth: LaunchedNodeRed
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-auth-'))
    const [p1, p2] = await freePorts(2)
    writeFileSync(join(dir, 'no-auth.settings.js'), NO_AUTH_SETTINGS)
    const noAuthDir = join(dir, 'no-auth')
    ;[withAuth, noAuth] = await Promise.all([
      launchNodeRed({userDir: join(dir, 'with-auth'), port: p1, env, auth: {token: TOKEN}, name: 'with-auth', bootStopped: false, timeoutMs: 60_000}),
      (async () => {
        const {mkdirSync, copyFileSync} = await import('node:fs')
        mkdirSync(noAuthDir, {recursive: true})
        copyFileSync(join(dir, 'no-auth.settings.js'), join(noAuthDir, 'settings.js'))
        return launchNodeRed({userDir: noAuthDir, port: p2, env: {FF_HA_NODE_RED_LOG_LEVEL: 'warn'}, auth: {}, name: 'no-auth', writeSettings: false, bootStopped: false, timeoutMs: 60_000})
      })(),
    ])
  }, 90_000)
  afterAll(async () => {
    await Promise.all([withAuth?.stop(), noAuth?.stop()])
    await Promise.all([withAuth?.client.close(), noAuth?.client.close()])
    rmSync(dir, {recursive: true, force: true})
  })

  it('GET auth/login tells them apart', async () => {
    expect(await withAuth.client.adminAuthEnabled()).toBe(true)
    expect(await noAuth.client.adminAuthEnabled()).toBe(false)
  })

  it('a deploy with the token waits for both to report their flows started, and the replica without adminAuth survives it', async () => {
    const report = await deployFlows({
      flows: probeFlows(),
      replicas: [{name: 'with-auth', url: withAuth.url}, {name: 'no-auth', url: noAuth.url}],
      auth: {token: TOKEN},
      mode: 'load-balanced',
      strategy: 'parallel',
      verifyTimeoutMs: 30_000,
    })
    expect(report.error).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.replicas.map(r => [r.name, r.status, r.after.state])).toEqual([['with-auth', 'deployed', 'start'], ['no-auth', 'deployed', 'start']])
    // Node-RED 4.1 without adminAuth used to exit on the {"auth"} comms message: it must still run and answer.
    await new Promise(r => setTimeout(r, 500))
    expect(noAuth.child.exitCode).toBeNull()
    expect(noAuth.child.signalCode).toBeNull()
    expect(await noAuth.client.getFlowsState()).toBe('start')
  }, 60_000)

  it('ff-ha deploy --no-auth deploys to the replica without adminAuth with no token in the environment, and is refused by the one with it', async () => {
    const flowsFile = join(dir, 'flows.json')
    writeFileSync(flowsFile, JSON.stringify(probeFlows().map(n => (n.id === 'tick' ? {...n, repeat: '2'} : n)), null, 2))
    const cli = (target: string) =>
      run(process.execPath, [join(packageRoot, 'bin', 'run.js'), 'deploy', flowsFile, '--target', target, '--no-auth', '--mode', 'load-balanced', '--no-lint'], {
        env: {PATH: process.env.PATH ?? '', NO_COLOR: '1'},
      }).then(
        r => ({code: 0, stdout: r.stdout, stderr: r.stderr}),
        e => ({code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string}),
      )
    const ok = await cli(`no-auth=${noAuth.url}`)
    expect(ok.stderr).not.toMatch(/error/)
    expect(ok.code).toBe(0)
    expect(noAuth.child.exitCode).toBeNull()
    const refused = await cli(`with-auth=${withAuth.url}`)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/with-auth: .*not authorized \(HTTP 401\)/)
  }, 60_000)
})

describe('flows larger than Node-RED\'s default apiMaxLength (real Node-RED 4)', () => {
  let dir: string
  let small: LaunchedNodeRed
  let rendered: LaunchedNodeRed
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-size-'))
    const [p1, p2] = await freePorts(2)
    ;[small, rendered] = await Promise.all([
      launchNodeRed({userDir: join(dir, 'small'), port: p1, env, auth: {token: TOKEN}, name: 'small', settings: {...DEFAULT_SETTINGS_VALUES, apiMaxLength: '1mb'}, timeoutMs: 60_000}),
      launchNodeRed({userDir: join(dir, 'rendered'), port: p2, env, auth: {token: TOKEN}, name: 'rendered', timeoutMs: 60_000}),
    ])
  }, 90_000)
  afterAll(async () => {
    await Promise.all([small?.stop(), rendered?.stop()])
    await Promise.all([small?.client.close(), rendered?.client.close()])
    rmSync(dir, {recursive: true, force: true})
  })

  it('a replica whose apiMaxLength is too small: HTTP 413 named as its apiMaxLength, with the size sent', async () => {
    const err = await small.client.postFlows(bigFlows(2 * 1024 * 1024)).then(() => undefined, e => e)
    expect(err).toBeInstanceOf(AdminError)
    expect((err as AdminError).kind).toBe('too-large')
    expect((err as AdminError).message).toMatch(/^small: POST \/flows: HTTP 413, the replica refused a 2\.0 MiB request: larger than its apiMaxLength \(Node-RED's default is 5mb\)$/)
    expect(small.child.exitCode).toBeNull()
  })

  it('the rendered settings take a 10 MB flows file (Node-RED\'s default 5mb refused it with HTTP 413)', async () => {
    const flows = bigFlows(10 * 1024 * 1024)
    const report = await deployFlows({flows, replicas: [{name: 'rendered', url: rendered.url}], auth: {token: TOKEN}, mode: 'hot-spare', verifyTimeoutMs: 60_000, clientOptions: {requestTimeoutMs: 60_000}})
    expect(report.error).toBeUndefined()
    expect(report.replicas[0]).toMatchObject({status: 'deployed', after: {state: 'stop'}})
    expect((await rendered.client.getFlows()).flows).toHaveLength(flows.length)
  }, 120_000)
})
