import {spawn, type ChildProcess} from 'node:child_process'
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AGENT_FD, spawnNodeRed} from '../nodered/launch.js'
import {resolveNodeRed} from '../nodered/runtime.js'
import {ensureBootsStopped} from '../nodered/userdir.js'
import type {AgentConfig} from './config.js'
import {ENV} from '../model/env.js'

// If the agent dies without a chance to stop Node-RED (SIGKILL, OOM), an orphaned Node-RED would go on
// running its flows while a spare takes over: two actives. In a container the agent is PID 1 and its death
// ends the container; elsewhere this preload, required into Node-RED through NODE_OPTIONS, kills Node-RED
// within 100 ms of its parent's death. It removes itself from the environment so that processes Node-RED
// spawns (exec nodes) do not inherit it.
/** The preload text (exported for the liveness test, which runs it without an agent). */
export const PARENT_WATCH = `'use strict'
const agentPid = Number(process.env['${ENV.agentPid}'])
delete process.env['${ENV.agentPid}']
if (process.env['${ENV.outerNodeOptions}'] !== undefined) process.env.NODE_OPTIONS = process.env['${ENV.outerNodeOptions}']
else delete process.env.NODE_OPTIONS
delete process.env['${ENV.outerNodeOptions}']
// The replica's liveness lock (agent/lease/liveness.ts): held from before red.js runs to this process's
// exit, so that a spare never takes the lease early while these flows can run. No lock, no Node-RED.
const livenessFile = process.env['${ENV.livenessFile}']
const livenessSqlite = process.env['${ENV.livenessSqlite}']
delete process.env['${ENV.livenessFile}']
delete process.env['${ENV.livenessSqlite}']
if (livenessFile) {
  try {
    const db = new (require(livenessSqlite))(livenessFile, {fileMustExist: true, timeout: 5000})
    db.exec('BEGIN')
    db.prepare('SELECT covered FROM liveness').get()
    process[Symbol.for('ff-ha.liveness')] = db // referenced for the life of the process
  } catch (err) {
    process.stderr.write('ff-ha: cannot hold the liveness lock ' + livenessFile + ' (' + err.message + '): not starting Node-RED\\n')
    process.exit(70)
  }
}
if (agentPid && process.ppid === agentPid) {
  setInterval(() => {
    if (process.ppid !== agentPid) process.kill(process.pid, 'SIGKILL')
  }, 100).unref()
}

// Deploys, told to the agent (see agent/deploy-window.ts): a busy Node-RED must not be taken for a hung one.
const agentFd = Number(process.env['${ENV.agentFd}'])
delete process.env['${ENV.agentFd}']
if (agentFd > 2) {
  const fs = require('fs')
  const tell = event => {
    try {
      fs.writeSync(agentFd, JSON.stringify(event) + '\\n')
    } catch {
      // the agent is gone or not reading: nothing to tell
    }
  }
  let events = null
  // Node-RED's own event bus, from the package that red.js loaded (already in the cache by the first deploy).
  const nodeRedEvents = () => {
    if (events !== null) return
    events = false
    try {
      const util = require('module').createRequire(require.resolve(process.argv[1]))('@node-red/util')
      util.events.on('runtime-event', e => {
        if (e && e.id === 'runtime-deploy') tell({deploy: 'done'})
      })
      events = true
    } catch {
      // another layout: the agent ends a deploy at its answer instead
    }
    tell({deploy: 'hello', events})
  }
  let seq = 0
  require('diagnostics_channel').subscribe('http.server.request.start', ({request, response}) => {
    const path = (request.url || '').split('?')[0]
    // Deploys (POST /flows, the /flow API) and the heavy read (GET /flows serialises every node).
    const write = (request.method === 'POST' && /\\/flows\\/?$/.test(path)) || (request.method !== 'GET' && /\\/flow(\\/[^/]+)?\\/?$/.test(path))
    if (!write && !(request.method === 'GET' && /\\/flows\\/?$/.test(path))) return
    nodeRedEvents()
    const id = ++seq
    tell({deploy: 'start', id, write, bytes: Number(request.headers['content-length']) || 0})
    let answered = false
    const answer = () => {
      if (answered) return
      answered = true
      tell({deploy: 'answered', id, status: response.writableFinished ? response.statusCode : 599})
    }
    response.once('finish', answer)
    response.once('close', answer)
  })
}
`

export class NodeRedLauncher {
  private preloadDir: string | null = null
  /** The liveness lock's environment for the preload (agent/lease/liveness.ts); null: none. */
  liveness: Record<string, string> | null = null

  constructor(private readonly config: AgentConfig) {}

  /** Spawn Node-RED booting with flows stopped (the persisted stop state; never --safe). */
  spawn(): ChildProcess {
    const c = this.config
    if (c.command.length > 0) return this.spawnCommand()
    const env = {...c.env, ...this.preloadEnv()}
    const ownSettings = c.settingsFile === join(c.userDir, 'settings.js')
    return spawnNodeRed({
      agentChannel: true,
      userDir: c.userDir,
      port: c.nodeRedPort,
      host: c.nodeRedHost,
      env,
      major: c.major,
      writeSettings: false,
      bootStopped: true,
      args: ownSettings ? [] : ['--settings', c.settingsFile],
    })
  }

  /**
   * Whether the Node-RED this launcher starts can hold the liveness lock: the preload loads the agent's
   * better-sqlite3, so it must run on this Node (not a custom command, not Node-RED 5's own Node 22).
   */
  canHoldLiveness(): boolean {
    if (this.config.command.length > 0) return false
    try {
      return resolveNodeRed(this.config.major).node === process.execPath
    } catch {
      return false
    }
  }

  /** The last lines of Node-RED's log, to say what is wrong in a crash loop. */
  logTail(lines = 3): string {
    try {
      const text = readFileSync(join(this.config.userDir, 'node-red.log'), 'utf8')
      return text.trimEnd().split('\n').slice(-lines).join(' | ').slice(-600)
    } catch {
      return ''
    }
  }

  cleanup(): void {
    if (this.preloadDir) rmSync(this.preloadDir, {recursive: true, force: true})
    this.preloadDir = null
  }

  private preloadEnv(): Record<string, string> {
    if (!this.preloadDir) {
      this.preloadDir = mkdtempSync(join(tmpdir(), 'ff-ha-agent-'))
      writeFileSync(join(this.preloadDir, 'parent-watch.cjs'), PARENT_WATCH)
    }
    const outer = this.config.env.NODE_OPTIONS
    const env: Record<string, string> = {
      [ENV.agentPid]: String(process.pid),
      [ENV.agentFd]: String(AGENT_FD),
      NODE_OPTIONS: `${outer ? outer + ' ' : ''}--require ${JSON.stringify(join(this.preloadDir, 'parent-watch.cjs'))}`,
    }
    if (outer !== undefined) env[ENV.outerNodeOptions] = outer
    return {...env, ...this.liveness}
  }

  private spawnCommand(): ChildProcess {
    const c = this.config
    ensureBootsStopped(c.userDir)
    mkdirSync(c.userDir, {recursive: true})
    const log = openSync(join(c.userDir, 'node-red.log'), 'a')
    const child = spawn(c.command[0], c.command.slice(1), {
      env: {...c.env, [ENV.nodeRedPort]: String(c.nodeRedPort), [ENV.nodeRedHost]: c.nodeRedHost},
      stdio: ['ignore', log, log],
    })
    closeSync(log)
    return child
  }
}
