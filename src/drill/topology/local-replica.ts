import type {ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {createInterface} from 'node:readline'
import {RemoteError} from '../../errors.js'
import {freePorts} from '../../net/free-port.js'
import {packageRoot} from '../../paths.js'
import type {Profile} from '../../profile/schema.js'
import type {Resources} from '../processes.js'
import type {RoleEvent} from '../types.js'
import {agentCommand} from './agent-command.js'
import type {NetnsNetwork} from './netns.js'
import {recordRole} from './role-log.js'
import {ENV} from '../../model/env.js'
import {replicaNames} from '../../model/replicas.js'

// One replica of the local target: where it lives (address, ports, userDir, namespace) and its agent
// process (`ff-ha agent`, which runs its own Node-RED), with the last lines of its output for errors.

export interface LocalReplica {
  name: string
  host: string
  nodeRedPort: number
  statusPort: number
  userDir: string
  namespace?: string
  child?: ChildProcess
  tail: string[]
}

export const nodeRedUrl = (r: LocalReplica) => `http://${r.host}:${r.nodeRedPort}/`
export const agentUrl = (r: LocalReplica) => `http://${r.host}:${r.statusPort}/`

/** Names (the rendered set's: <profile name>-0, -1, ...), addresses and free ports (in namespaces when there is a network). */
export async function planReplicas(profile: {name: string; replicas: number}, dir: string, net?: NetnsNetwork): Promise<LocalReplica[]> {
  const ports = await freePorts(profile.replicas * 2)
  return replicaNames(profile).map((name, i) => ({
    name,
    host: net ? net.replicas[i].address : '127.0.0.1',
    nodeRedPort: ports[2 * i],
    statusPort: ports[2 * i + 1],
    userDir: join(dir, name),
    namespace: net?.replicas[i].namespace,
    tail: [],
  }))
}

export interface AgentLaunch {
  profile: Profile
  profileFile: string
  leaseFile: string
  token: string
  /** The agents' status token (secrets.statusTokenEnv): /status, /metrics and POST /handover need it. */
  statusToken?: string
  secret: string
  resources: Resources
  roleEvents: RoleEvent[]
}

/** Start (or restart) the replica's agent; its role changes go to launch.roleEvents. */
export function spawnAgent(r: LocalReplica, launch: AgentLaunch): void {
  mkdirSync(r.userDir, {recursive: true})
  const cmd = agentCommand()
  const args = [
    ...cmd.args,
    '--replica', r.name,
    '--profile', launch.profileFile,
    '--user-dir', r.userDir,
    '--node-red-port', String(r.nodeRedPort),
    '--status-port', String(r.statusPort),
    // in a namespace, listen on all of its addresses (the agent reaches its Node-RED on 127.0.0.1)
    '--status-host', r.namespace ? '0.0.0.0' : r.host,
    '--lease-file', launch.leaseFile,
  ]
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [launch.profile.secrets.adminTokenEnv]: launch.token,
    ...(launch.statusToken ? {[launch.profile.secrets.statusTokenEnv]: launch.statusToken} : {}),
    [launch.profile.secrets.credentialSecretEnv]: launch.secret,
    [ENV.replica]: r.name,
    [ENV.nodeRedHost]: r.namespace ? '0.0.0.0' : r.host,
    [ENV.nodeRedLogLevel]: 'warn',
    // a sqlite shared context store beside the drill's lease file, not at the profile's container path
    [ENV.contextPath]: join(dirname(launch.leaseFile), 'context.db'),
  }
  const [command, argv] = r.namespace ? ['ip', ['netns', 'exec', r.namespace, cmd.command, ...args]] : [cmd.command, args]
  const child = launch.resources.spawn(command, argv, {cwd: packageRoot, env, stdout: 'pipe', stderr: 'pipe'})
  r.child = child
  r.tail = []
  const keep = (line: string) => {
    r.tail.push(line)
    if (r.tail.length > 40) r.tail.shift()
  }
  createInterface({input: child.stdout!}).on('line', line => {
    keep(line)
    recordRole(launch.roleEvents, r.name, line)
  })
  createInterface({input: child.stderr!}).on('line', keep)
}

/** Throw at once when the replica's agent has exited: a wait for it would only time out. */
export function assertAgentRunning(r: LocalReplica): void {
  if (r.child && r.child.exitCode !== null) {
    throw new RemoteError(`the agent of ${r.name} exited with code ${r.child.exitCode}: ${lastWords(r)}`, {replica: r.name})
  }
}

/** The agent's last telling lines (errors first) for a message. */
export function lastWords(r: LocalReplica): string {
  const lines = r.tail.filter(l => /error|fail|exit|crash/i.test(l)).slice(-2)
  return (lines.length ? lines : r.tail.slice(-2)).join(' | ').slice(0, 400) || 'no output'
}
