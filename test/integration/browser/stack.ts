// Real ff-ha agents (each with its real Node-RED) behind real HAProxy running the rendered haproxy.cfg: what a
// browser reaches in a deployment. Reuses the agent test support (harness/agents.ts) and the drill's
// HAProxy starter (the very config `ff-ha render` writes for Compose, with loopback addresses).
import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import type {FlowNode} from '../../../src/admin/types.js'
import {freePort} from '../../../src/net/free-port.js'
import {packageRoot} from '../../../src/paths.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {Resources} from '../../../src/drill/processes.js'
import {startHaproxy} from '../../../src/drill/proxy/haproxy.js'
import {which} from '../../../src/drill/tools.js'
import {startAgents, TEST_TOKEN, type AgentSet} from '../../../harness/agents.js'

export interface Stack {
  set: AgentSet
  proxyUrl: string
  haproxyConfig: string
  stop(): Promise<void>
}

/** Why these tests cannot run here (HAProxy absent), or null. */
export function haproxyMissing(): string | null {
  return which('haproxy') ? null : 'haproxy is not on PATH: the browser-through-the-proxy tests did NOT run. Install it with `apt-get install haproxy`.'
}

/**
 * Install Dashboard 2 in a replica the way a user does (in its userDir): Node-RED scans <userDir>/node_modules
 * for packages that declare `node-red` nodes, so link the repository's @flowfuse/node-red-dashboard there
 * (its dependencies resolve from the link's real path). Node-RED also scans every node_modules above its own
 * core nodes, which here includes the repository's, so a development replica finds the devDependency even
 * without this link; a userDir copy wins over that one (Node-RED keeps the local copy of a module found twice).
 */
export function linkDashboard(userDir: string): void {
  const scope = join(userDir, 'node_modules', '@flowfuse')
  mkdirSync(scope, {recursive: true})
  symlinkSync(join(packageRoot, 'node_modules', '@flowfuse', 'node-red-dashboard'), join(scope, 'node-red-dashboard'), 'dir')
}

export async function startStack(options: {profile: string; flows: FlowNode[]; replicas?: string[]; env?: Record<string, string>; dashboard?: boolean}): Promise<Stack> {
  const haproxy = which('haproxy')
  if (!haproxy) throw new Error(haproxyMissing()!)
  const profile = parseProfileText(options.profile, 'ff-ha.yaml')
  const names = options.replicas ?? ['a', 'b']
  // startAgents puts replica <name>'s userDir at <dir>/<name>: prepare them before any Node-RED starts
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-browser-'))
  if (options.dashboard) for (const name of names) linkDashboard(join(dir, name))
  let set: AgentSet
  try {
    set = await startAgents({replicas: names, profile: options.profile, flows: options.flows, env: options.env, dir})
  } catch (err) {
    rmSync(dir, {recursive: true, force: true})
    throw err
  }
  const resources = new Resources()
  try {
    // hot-spare: one active, the others spares with flows stopped; load-balanced: every replica runs flows
    if (profile.mode === 'hot-spare') {
      await set.waitForActive(120_000)
      for (const a of set.agents) await a.waitForStatus(s => s.role === 'active' || (s.role === 'spare' && s.flowsState === 'stop'), 120_000, 'active, or spare with flows stopped')
    } else {
      for (const a of set.agents) await a.waitForStatus(s => s.flowsState === 'start', 120_000, 'flows running')
    }
    const bindPort = await freePort()
    const servers = set.agents.map(a => ({name: a.name, address: '127.0.0.1', port: a.nodeRedPort, checkPort: a.statusPort}))
    const p = await startHaproxy(haproxy, profile, {servers, bindPort, bindAddress: '127.0.0.1', dir: set.dir, resources})
    // HAProxy marks servers up after its first checks: wait until the editor/dashboard root answers through it
    await waitUntil(async () => (await statusCode(p.url)) > 0 && (await statusCode(p.url)) < 500, 30_000, `nothing answered through HAProxy at ${p.url}`)
    return {
      set,
      proxyUrl: p.url,
      haproxyConfig: p.configFile,
      async stop() {
        await resources.cleanup()
        await set.stop()
        rmSync(dir, {recursive: true, force: true})
      },
    }
  } catch (err) {
    await resources.cleanup()
    await set.stop()
    rmSync(dir, {recursive: true, force: true})
    throw err
  }
}

export async function statusCode(url: string): Promise<number> {
  try {
    const res = await request(url, {headersTimeout: 2000, bodyTimeout: 2000})
    await res.body.dump()
    return res.statusCode
  } catch {
    return 0
  }
}

/** GET /flows (v2) of one replica with the shared admin token: its rev and nodes. */
export async function replicaFlows(nodeRedUrl: string): Promise<{rev: string; flows: FlowNode[]}> {
  const res = await request(new URL('flows', nodeRedUrl), {headers: {authorization: `Bearer ${TEST_TOKEN}`, 'Node-RED-API-Version': 'v2'}})
  if (res.statusCode !== 200) throw new Error(`GET ${nodeRedUrl}flows: HTTP ${res.statusCode}`)
  return (await res.body.json()) as {rev: string; flows: FlowNode[]}
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
}
