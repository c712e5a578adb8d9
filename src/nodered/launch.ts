import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, openSync, writeFileSync, closeSync} from 'node:fs'
import {join} from 'node:path'
import {AdminClient} from '../admin/client.js'
import {RemoteError} from '../errors.js'
import {pollUntil} from '../io/poll.js'
import {stopProcess} from '../process/run.js'
import type {AdminAuth, FlowsState} from '../admin/types.js'
import {packageRoot} from '../paths.js'
import {renderSettings, type SettingsValues, DEFAULT_SETTINGS_VALUES} from '../model/settings.js'
import {resolveNodeRed, type NodeRedMajor} from './runtime.js'
import {ensureBootsStopped} from './userdir.js'
import {ENV} from '../model/env.js'

export interface NodeRedLaunchOptions {
  userDir: string
  port: number
  host?: string
  /** Environment for Node-RED: must carry the admin token and credential secret that settings.js reads. */
  env: Record<string, string>
  major?: NodeRedMajor
  settings?: SettingsValues
  /** Write settings.js into the userDir (default true). */
  writeSettings?: boolean
  /** Make the runtime boot with flows stopped (default true). */
  bootStopped?: boolean
  /** Extra arguments for red.js. */
  args?: string[]
  /** Open a pipe on fd AGENT_FD (child.stdio[AGENT_FD]) for the agent preload's deploy events. */
  agentChannel?: boolean
}

/** The child's fd of the agent channel (see agent/node-red-child.ts). */
export const AGENT_FD = 3

/** Spawn Node-RED with the ff-ha settings; output goes to userDir/node-red.log. Does not wait. */
export function spawnNodeRed(options: NodeRedLaunchOptions): ChildProcess {
  const runtime = resolveNodeRed(options.major ?? 4)
  mkdirSync(options.userDir, {recursive: true})
  const settingsFile = join(options.userDir, 'settings.js')
  if (options.writeSettings !== false) writeFileSync(settingsFile, renderSettings(options.settings ?? DEFAULT_SETTINGS_VALUES))
  if (options.bootStopped !== false) ensureBootsStopped(options.userDir)
  const log = openSync(join(options.userDir, 'node-red.log'), 'a')
  const child = spawn(runtime.node, [runtime.redJs, '--userDir', options.userDir, '--settings', settingsFile, ...(options.args ?? [])], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? options.userDir,
      // ff-ha's Node-RED nodes, added to nodesDir by the rendered settings.js.
      [ENV.nodesDir]: join(packageRoot, 'nodes'),
      ...options.env,
      [ENV.nodeRedPort]: String(options.port),
      [ENV.nodeRedHost]: options.host ?? '127.0.0.1',
    },
    stdio: options.agentChannel ? ['ignore', log, log, 'pipe'] : ['ignore', log, log],
  })
  closeSync(log)
  return child
}

/**
 * Wait until the runtime has loaded its flows: v2 GET /flows returns a rev. HTTP answering is not flows
 * loaded: right after boot POST /flows/state can fail with 500 and GET /flows/state can misreport. Even
 * after the rev, GET /flows/state says `start` for a few ms before a runtime booting stopped applies its
 * persisted `stop`: pass `state` to wait for the state it must settle in.
 */
export async function waitForFlowsLoaded(
  client: AdminClient,
  options: {timeoutMs?: number; child?: ChildProcess; state?: FlowsState} = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 30_000
  let last: unknown
  return pollUntil(
    async () => {
      if (options.child && options.child.exitCode !== null) {
        throw new RemoteError(`Node-RED exited with code ${options.child.exitCode} before it loaded its flows`)
      }
      try {
        const {rev} = await client.getFlows()
        const state = options.state ? await client.getFlowsState() : undefined
        if (state === options.state) return rev
        last = new RemoteError(`flows state ${state}, waiting for ${options.state}`)
      } catch (err) {
        last = err
      }
      return undefined
    },
    {timeoutMs, intervalMs: 25, what: 'Node-RED loading its flows', detail: () => (last as Error)?.message ?? 'no answer'},
  )
}

export interface LaunchedNodeRed {
  child: ChildProcess
  url: string
  client: AdminClient
  /** SIGTERM and wait for exit (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<void>
}

/** Spawn Node-RED and wait until it serves its flows. */
export async function launchNodeRed(options: NodeRedLaunchOptions & {auth: AdminAuth; name?: string; timeoutMs?: number}): Promise<LaunchedNodeRed> {
  const child = spawnNodeRed(options)
  const url = `http://${options.host ?? '127.0.0.1'}:${options.port}/`
  const client = new AdminClient({name: options.name ?? `node-red:${options.port}`, url}, {auth: options.auth, retries: 0})
  const stop = (graceMs = 5000) => stopChild(child, graceMs)
  try {
    await waitForFlowsLoaded(client, {timeoutMs: options.timeoutMs, child, state: settledState(options)})
  } catch (err) {
    await stop(1000)
    await client.close()
    throw err
  }
  return {child, url, client, stop}
}

/** The state a freshly booted runtime settles in: safe mode wins over the persisted state. */
function settledState(options: NodeRedLaunchOptions): FlowsState | undefined {
  if (options.args?.includes('--safe')) return 'safe'
  return options.bootStopped === false ? undefined : 'stop'
}

/** SIGTERM and wait for the exit, SIGKILL after graceMs (the one stop of src/process/run.ts). */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  return stopProcess(child, {graceMs, group: false})
}
