import {statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'
import {browserAvailable, launchBrowser, type RunningBrowser} from '../../support/browser.js'
import {probeFlows} from '../../../harness/agents.js'
import {haproxyMissing, replicaFlows, startStack, type Stack} from './stack.js'

// The Node-RED editor of a real replica, opened in real Chromium through real HAProxy running the rendered
// haproxy.cfg (hot-spare: HAProxy sends everything to the active). The browser logs in with the editor login
// that the rendered settings.js offers (FF_HA_ADMIN_USER + a bcrypt FF_HA_ADMIN_PASSWORD_HASH; without them
// adminAuth has no users and only the shared admin token gets in), renames a node, presses Deploy, and the
// test reads every replica's rev through the admin API.

const PROFILE = 'name: browser-editor\nmode: hot-spare\ntarget: compose\n'
const USER = 'editor'
const PASSWORD = 'editor-password-for-the-browser-test'
// bcryptjs is what Node-RED itself uses to check the hash (`node-red admin hash-pw` makes the same kind)
const bcrypt = createRequire(join(packageRoot, 'node_modules', 'node-red', 'package.json'))('bcryptjs') as {hashSync(s: string, rounds: number): string}

const canRun = browserAvailable() && !haproxyMissing()
if (haproxyMissing()) process.stderr.write(`\n*** ${haproxyMissing()} ***\n\n`)

let stack: Stack
let browser: RunningBrowser

beforeAll(async () => {
  if (!canRun) return
  stack = await startStack({
    profile: PROFILE,
    flows: probeFlows(),
    env: {FF_HA_ADMIN_USER: USER, FF_HA_ADMIN_PASSWORD_HASH: bcrypt.hashSync(PASSWORD, 8)},
  })
  browser = await launchBrowser()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

describe.runIf(canRun)('the editor through HAProxy (hot-spare), in Chromium', () => {
  it('asks for a login, and a wrong password does not open the editor', async () => {
    const context = await browser.context()
    const page = await context.newPage()
    const flowsAnswers: number[] = []
    page.on('response', r => {
      if (new URL(r.url()).pathname === '/flows') flowsAnswers.push(r.status())
    })
    await page.goto(stack.proxyUrl)
    await page.locator('#node-dialog-login-username').fill(USER, {timeout: 60_000})
    await page.locator('#node-dialog-login-password').fill('not-the-password')
    await page.locator('#node-dialog-login-submit').click()
    // Node-RED marks the failed login on the dialog and keeps it open
    await page.locator('#node-dialog-login-failed').waitFor({state: 'visible', timeout: 30_000})
    expect(await page.locator('#node-dialog-login-username').isVisible()).toBe(true)
    expect(await page.locator('[id="ff_ha_probe_answer"]').count()).toBe(0)
    expect(flowsAnswers.filter(s => s === 200)).toEqual([])
    await context.close()
  }, 120_000)

  it('Deploy in the editor reaches every replica: the spare gets the same rev within 2 s and stays stopped (#14 part 2)', async () => {
    const active = await stack.set.waitForActive()
    const spare = stack.set.agents.find(a => a !== active)!
    const before = await Promise.all(stack.set.agents.map(a => replicaFlows(a.nodeRedUrl)))
    expect(before[0].rev).toBe(before[1].rev)

    const context = await browser.context()
    const page = await context.newPage()
    await page.goto(stack.proxyUrl)
    // adminAuth asks: the editor shows its login dialog
    await page.locator('#node-dialog-login-username').fill(USER, {timeout: 60_000})
    await page.locator('#node-dialog-login-password').fill(PASSWORD)
    await page.locator('#node-dialog-login-submit').click()
    // the editor draws the flow: the function node of the probe flow is on the canvas
    const node = page.locator('[id="ff_ha_probe_answer"]')
    await node.waitFor({timeout: 60_000})

    // open the node's edit tray, rename it, Done, Deploy
    // Node-RED 4.1 asks a new user about update notifications in a modal (the rendered settings.js does not
    // set `telemetry`); answer it as a user on an offline replica would
    const telemetry = page.getByRole('button', {name: 'No, do not enable notifications'})
    await telemetry.click({timeout: 15_000}).catch(() => {})
    await page.locator('.red-ui-shade').first().waitFor({state: 'hidden', timeout: 30_000})
    await node.locator('.red-ui-flow-node').dblclick()
    // The tray is visible before it has finished preparing (the function node's code editor loads
    // asynchronously), and what is typed in that moment is sometimes reset to the node's value: type again
    // until the name holds for half a second, and check it before pressing Done.
    await page.locator('#node-input-func-editor .monaco-editor').waitFor({timeout: 30_000})
    const name = page.locator('#node-input-name')
    for (let attempt = 0; attempt < 10; attempt++) {
      await name.fill('browser edit')
      await page.waitForTimeout(500)
      if ((await name.inputValue()) === 'browser edit') break
    }
    expect(await name.inputValue()).toBe('browser edit')
    await page.locator('#node-dialog-ok').click()
    const deployAnswer = page.waitForResponse(r => new URL(r.url()).pathname === '/flows' && r.request().method() === 'POST')
    await page.locator('#red-ui-header-button-deploy').click()
    expect((await deployAnswer).status()).toBe(200)
    const deployedAt = performance.now()
    // the spare converges on the shared flows record: same rev as the active, within 2 s of the Deploy's answer
    let spareRev = ''
    while (performance.now() - deployedAt < 2000) {
      spareRev = (await replicaFlows(spare.nodeRedUrl)).rev
      if (spareRev === (await replicaFlows(active.nodeRedUrl)).rev) break
      await new Promise(r => setTimeout(r, 50))
    }
    const convergedMs = Math.round(performance.now() - deployedAt)
    process.stderr.write(`editor-deploy: the spare had the active's rev ${convergedMs} ms after the Deploy's answer\n`)
    await page.locator('.red-ui-notification', {hasText: /deployed/i}).first().waitFor({timeout: 30_000})
    // the screenshot only: let the notification finish sliding in and the Deploy button stop spinning
    await page.locator('#red-ui-header-button-deploy.disabled').waitFor({timeout: 30_000})
    await page.waitForTimeout(800)
    // docs/editor-deploy.png is refreshed on request only (FF_HA_UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean
    const shot = process.env.FF_HA_UPDATE_SCREENSHOTS === '1' ? join(packageRoot, 'docs', 'editor-deploy.png') : join(stack.set.dir, 'editor-deploy.png')
    await page.screenshot({path: shot})
    expect(statSync(shot).size).toBeGreaterThan(10_000)
    await context.close()

    // the replica the browser reached is the active (HAProxy's /active check), and it has the edit
    const afterActive = await replicaFlows(active.nodeRedUrl)
    expect(afterActive.rev).not.toBe(before[0].rev)
    expect(afterActive.flows.find(n => n.id === 'ff_ha_probe_answer')?.name).toBe('browser edit')
    expect((await active.status())?.role).toBe('active')

    // the spare has the edit too (same rev, the new name), reached within 2 s, and its flows stay stopped
    const afterSpare = await replicaFlows(spare.nodeRedUrl)
    expect(afterSpare.rev).toBe(afterActive.rev)
    expect(spareRev).toBe(afterActive.rev)
    expect(convergedMs).toBeLessThan(2000)
    expect(afterSpare.flows.find(n => n.id === 'ff_ha_probe_answer')?.name).toBe('browser edit')
    // the active was not restarted by its own agent: one converge, on the spare only
    expect(active.events.filter(e => e.event === 'flows-record' && e.action === 'converged')).toEqual([])
    expect(spare.events.filter(e => e.event === 'flows-record' && e.action === 'converged').length).toBe(1)
    expect((await spare.status())?.role).toBe('spare')
    expect(await spare.flowsState()).toBe('stop')
  }, 180_000)
})
