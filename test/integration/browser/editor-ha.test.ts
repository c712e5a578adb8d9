import {createRequire} from 'node:module'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import type {BrowserContext, Page} from 'playwright-core'
import {afterAll, beforeEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'
import {browserAvailable, launchBrowser, type RunningBrowser} from '../../support/browser.js'
import {probeFlows, type AgentProcess} from '../../../harness/agents.js'
import {haproxyMissing, replicaFlows, startStack, waitUntil, type Stack} from './stack.js'

// The editor's Deploy in an HA set (#14 part 2, docs/design/editor-deploy.md), in real Chromium through real
// HAProxy running the rendered haproxy.cfg, against real agents and Node-RED sharing one sqlite flows record:
// editors on two replicas at once (load-balanced: each browser context pinned to a replica by the sticky
// cookie), a stale editor, two Deploys racing, and a replica that was down when the Deploy happened.

const USER = 'editor'
const PASSWORD = 'editor-password-for-the-browser-test'
const bcrypt = createRequire(join(packageRoot, 'node_modules', 'node-red', 'package.json'))('bcryptjs') as {hashSync(s: string, rounds: number): string}
const ENV = {FF_HA_ADMIN_USER: USER, FF_HA_ADMIN_PASSWORD_HASH: bcrypt.hashSync(PASSWORD, 8)}
const NODE = 'ff_ha_probe_answer'

const canRun = browserAvailable() && !haproxyMissing()
if (haproxyMissing()) process.stderr.write(`\n*** ${haproxyMissing()} ***\n\n`)

let stack: Stack | undefined
let browser: RunningBrowser | undefined

async function stopAll(): Promise<void> {
  await browser?.close()
  browser = undefined
  await stack?.stop()
  stack = undefined
}
beforeEach(stopAll)
afterAll(stopAll)

/** A browser context whose requests the sticky backend sends to `replica` (its FFHA_REPLICA cookie), or anywhere. */
async function contextOn(s: Stack, b: RunningBrowser, replica?: string): Promise<BrowserContext> {
  const context = await b.context()
  if (replica) await context.addCookies([{name: 'FFHA_REPLICA', value: replica, url: s.proxyUrl}])
  return context
}

/** Log in and wait until the editor shows the probe flow's function node. */
async function openEditor(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  const node = page.locator(`[id="${NODE}"]`)
  const problems: string[] = []
  page.on('requestfailed', r => problems.push(`${r.failure()?.errorText} ${new URL(r.url()).pathname}`))
  page.on('pageerror', e => problems.push(`page error: ${e.message}`))
  const pending = new Set<string>()
  page.on('request', r => pending.add(r.url()))
  page.on('requestfinished', r => pending.delete(r.url()))
  page.on('requestfailed', r => pending.delete(r.url()))
  // Up to three loads. Seen on this shared machine, load-balanced only: an editor load through HAProxy that
  // stays at "Loading ..." for good, after requests under way failed (net::ERR_CONTENT_LENGTH_MISMATCH on
  // the 4 MB Monaco bundle; net::ERR_NETWORK_CHANGED when other work added or removed network interfaces).
  // A user reloads; so do we, and the test says so on stderr.
  for (let attempt = 1; ; attempt++) {
    await page.goto(url)
    const login = page.locator('#node-dialog-login-username')
    const shown = await Promise.any([login.waitFor({timeout: 30_000}).then(() => 'login'), node.waitFor({timeout: 30_000}).then(() => 'editor')]).catch(() => 'nothing')
    if (shown === 'login') {
      await login.fill(USER)
      await page.locator('#node-dialog-login-password').fill(PASSWORD)
      await page.locator('#node-dialog-login-submit').click()
    }
    if (await node.waitFor({timeout: 20_000}).then(() => true, () => false)) break
    for (const url of pending) problems.push(`no answer yet: ${new URL(url).pathname}`)
    pending.clear()
    if (attempt === 3) throw new Error(`the editor at ${url} did not show the flows after 3 loads (${problems.join('; ')})`)
    process.stderr.write(`editor-ha: the editor did not finish loading (load ${attempt}: ${problems.splice(0).join('; ') || 'no failed request'}), loading it again\n`)
  }
  // Node-RED 4.1 asks a new user about update notifications (a modal): answer as an offline replica's user
  await page.getByRole('button', {name: 'No, do not enable notifications'}).click({timeout: 15_000}).catch(() => {})
  await page.locator('.red-ui-shade').first().waitFor({state: 'hidden', timeout: 30_000})
  return page
}

/** Rename the function node in its edit tray (typed again until it holds: the tray resets early input), Done. */
async function rename(page: Page, name: string): Promise<void> {
  await page.locator(`[id="${NODE}"] .red-ui-flow-node`).dblclick()
  await page.locator('#node-input-func-editor .monaco-editor').waitFor({timeout: 30_000})
  const input = page.locator('#node-input-name')
  for (let attempt = 0; attempt < 10; attempt++) {
    await input.fill(name)
    await page.waitForTimeout(500)
    if ((await input.inputValue()) === name) break
  }
  expect(await input.inputValue()).toBe(name)
  await page.locator('#node-dialog-ok').click()
  await page.locator('#node-dialog-ok').waitFor({state: 'detached', timeout: 30_000})
}

/** Press Deploy; resolves with the status of the editor's POST /flows. */
async function deploy(page: Page): Promise<number> {
  const answer = page.waitForResponse(r => new URL(r.url()).pathname === '/flows' && r.request().method() === 'POST', {timeout: 60_000})
  await page.locator('#red-ui-header-button-deploy').click()
  return (await answer).status()
}

/** The replicas' revs until they are all `rev`; how long that took from `since` (performance.now()). */
async function allOn(s: Stack, rev: string, since: number, timeoutMs = 10_000): Promise<number> {
  await waitUntil(async () => (await Promise.all(s.set.agents.map(a => replicaFlows(a.nodeRedUrl)))).every(f => f.rev === rev), timeoutMs, `every replica on rev ${rev.slice(0, 8)}`)
  return Math.round(performance.now() - since)
}

function nameOn(flows: {flows: {id: string; name?: string}[]}): string | undefined {
  return flows.flows.find(n => n.id === NODE)?.name
}

// Load-balanced with health checks that tolerate a Node-RED busy serving the editor (the 4 MB Monaco bundle)
// or a deploy. With the defaults (a 200 ms check, /healthz failing at the first miss, HAProxy's fall 2 at
// 100 ms and shutdown-sessions) HAProxy marked the editor's replica down during those loads on this shared
// machine and cut the sticky editor's connections: a limit of the load-balanced checks, reported, not this
// feature's.
const LB_PROFILE = (name: string) => `name: ${name}\nmode: load-balanced\ntarget: compose\nfailover:\n  healthIntervalMs: 2000\n  healthTimeoutMs: 2000\n`

const CONFLICT = /The server is running a more recent set of flows/
const BACKGROUND = /The flows on the server have been updated/

describe.runIf(canRun)('the editor on every replica (load-balanced, sticky editors), in Chromium', () => {
  it('a stale editor on another replica is told the flows were updated, and its Deploy gets the conflict dialog, never a silent overwrite', async () => {
    stack = await startStack({profile: LB_PROFILE('editor-lb'), flows: probeFlows(), env: ENV})
    browser = await launchBrowser()
    const [a, b] = stack.set.agents
    const pageA = await openEditor(await contextOn(stack, browser, a.name), stack.proxyUrl)
    const pageB = await openEditor(await contextOn(stack, browser, b.name), stack.proxyUrl)

    await rename(pageA, 'edited on a')
    expect(await deploy(pageA)).toBe(200)
    const deployedAt = performance.now()
    const revA = (await replicaFlows(a.nodeRedUrl)).rev
    const ms = await allOn(stack, revA, deployedAt)
    process.stderr.write(`editor-ha: b had a's Deploy ${ms} ms after a's answer\n`)
    expect(ms).toBeLessThan(2000)
    expect(nameOn(await replicaFlows(b.nodeRedUrl))).toBe('edited on a')

    // b's editor still shows the flows it loaded; Node-RED tells it that its replica's flows changed
    await pageB.locator('.red-ui-notification', {hasText: BACKGROUND}).waitFor({timeout: 15_000})
    await rename(pageB, 'stale edit on b')
    expect(await deploy(pageB)).toBe(409)
    await pageB.locator('.red-ui-notification', {hasText: CONFLICT}).waitFor({timeout: 15_000})
    // nothing was overwritten anywhere
    for (const agent of stack.set.agents) {
      const f = await replicaFlows(agent.nodeRedUrl)
      expect(f.rev, agent.name).toBe(revA)
      expect(nameOn(f), agent.name).toBe('edited on a')
    }
    // both replicas kept running their flows (load-balanced)
    for (const agent of stack.set.agents) expect(await agent.flowsState(2000), agent.name).toBe('start')
  }, 300_000)

  it('two Deploys racing on two replicas end on one rev everywhere; the other editor is told it conflicted', async () => {
    stack = await startStack({profile: LB_PROFILE('editor-race'), flows: probeFlows(), env: ENV})
    browser = await launchBrowser()
    const [a, b] = stack.set.agents
    const pageA = await openEditor(await contextOn(stack, browser, a.name), stack.proxyUrl)
    const pageB = await openEditor(await contextOn(stack, browser, b.name), stack.proxyUrl)
    await rename(pageA, 'race from a')
    await rename(pageB, 'race from b')

    // both Deploy buttons pressed together: the two saves reach the shared record within milliseconds
    const [statusA, statusB] = await Promise.all([deploy(pageA), deploy(pageB)])
    const answeredAt = performance.now()
    expect([statusA, statusB].sort()).toEqual([200, 409])
    const [winner, loserPage] = statusA === 200 ? [a, pageB] : [b, pageA]
    const winnerName = statusA === 200 ? 'race from a' : 'race from b'
    const rev = (await replicaFlows(winner.nodeRedUrl)).rev
    const ms = await allOn(stack, rev, answeredAt)
    process.stderr.write(`editor-ha: race won by ${winner.name}; every replica on its rev ${ms} ms after both answers\n`)
    expect(ms).toBeLessThan(2000)
    for (const agent of stack.set.agents) expect(nameOn(await replicaFlows(agent.nodeRedUrl)), agent.name).toBe(winnerName)
    // the editor that lost shows Node-RED's own conflict dialog
    await loserPage.locator('.red-ui-notification', {hasText: CONFLICT}).waitFor({timeout: 15_000})
  }, 300_000)
})

describe.runIf(canRun)('a replica that was down when the editor deployed (hot-spare), in Chromium', () => {
  it('gets the flows before it can become active: after a failover the new active runs what was last deployed', async () => {
    stack = await startStack({profile: 'name: editor-down\nmode: hot-spare\ntarget: compose\n', flows: probeFlows(), env: ENV})
    browser = await launchBrowser()
    const active = await stack.set.waitForActive()
    const down: AgentProcess = stack.set.agents.find(x => x !== active)!
    await down.kill()
    expect(down.running).toBe(false)

    const page = await openEditor(await contextOn(stack, browser), stack.proxyUrl)
    await rename(page, 'deployed while b was down')
    expect(await deploy(page)).toBe(200)
    const rev = (await replicaFlows(active.nodeRedUrl)).rev

    // it comes back with the flows of its own userDir (older), and its agent converges it before it may lead
    const from = down.events.length
    down.spawn()
    await down.waitForStatus(s => s.role === 'spare' && s.flowsState === 'stop', 120_000, 'spare with flows stopped')
    await down.waitForEvent(e => e.event === 'flows-record' && e.action === 'converged', 30_000, from)
    expect((await replicaFlows(down.nodeRedUrl)).rev).toBe(rev)
    expect(await down.flowsState(2000)).toBe('stop')

    // the active dies: the replica that was down takes over, with the newest flows
    active.signal('SIGKILL')
    const next = await stack.set.waitForActive(60_000, active.name)
    expect(next).toBe(down)
    const after = await replicaFlows(next.nodeRedUrl)
    expect(after.rev).toBe(rev)
    expect(nameOn(after)).toBe('deployed while b was down')
    const events = down.events.slice(from)
    const converged = events.findIndex(e => e.event === 'flows-record' && e.action === 'converged')
    const acquired = events.findIndex(e => e.event === 'lease' && e.action === 'acquired')
    expect(converged).toBeGreaterThanOrEqual(0)
    expect(acquired).toBeGreaterThan(converged)
  }, 300_000)
})
