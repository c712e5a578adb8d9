import {existsSync, writeFileSync, mkdirSync} from 'node:fs'
import {isIP} from 'node:net'
import {join, resolve} from 'node:path'
import {InputError} from '../errors.js'
import type {NodeRedMajor} from '../nodered/runtime.js'
import {registerSecret} from '../output/secrets.js'
import {DEFAULT_PROFILE_FILE, loadProfile, parseProfileText} from '../profile/load.js'
import type {Profile, Timings} from '../profile/schema.js'
import {drainMs} from '../model/proxy-checks.js'
import {renderSettings, settingsValuesFromProfile} from '../model/settings.js'
import {defaultLeaseName, leaseBackend, type LeaseConfig} from './lease/backends/index.js'
import {leaseTimingProblems} from './lease/machine.js'
import {stopBoundMs} from '../model/lease-timing.js'
import {DEFAULT_RESTART_POLICY, type RestartPolicyOptions} from './restart-policy.js'
import {ENV} from '../model/env.js'
import {contextPlan} from '../model/context-storage.js'
import {contextTokenFile} from './context-fence.js'

/** What `ff-ha agent` is given: flags, each of which may also come from the environment. */
export interface AgentInput {
  replica?: string
  profile?: string
  userDir?: string
  nodeRedPort?: number
  statusPort?: number
  statusHost?: string
  leaseFile?: string
  settings?: string
  /** The Node-RED command and args given after `--`; empty: the project's node-red. */
  command?: string[]
}

export interface AgentConfig {
  replica: string
  profile: Profile
  /** The profile file, or "built-in". */
  profileSource: string
  mode: Profile['mode']
  userDir: string
  nodeRedPort: number
  /** Where Node-RED listens (the proxy must reach it): FF_HA_NODE_RED_HOST, default 0.0.0.0. */
  nodeRedHost: string
  statusPort: number
  /** Where the status server listens: 127.0.0.1 unless told (the rendered Compose and Kubernetes set 0.0.0.0). */
  statusHost: string
  /** Bearer token for /status and /metrics (from secrets.statusTokenEnv); none: they are open. Never logged. */
  statusToken?: string
  /** The lease backend, which lease, and the backend's own options (backends/index.ts). */
  lease: LeaseConfig
  /** The settings.js Node-RED runs with. */
  settingsFile: string
  command: string[]
  major: NodeRedMajor
  timings: Timings
  witness?: string
  /** The admin token (never logged), for the agent's own calls to 127.0.0.1. */
  adminToken: string
  /**
   * The environment Node-RED gets: the agent's own, with the token and credential secret (settings.js reads
   * them and deletes them from process.env, so flows never see them), without the status token.
   */
  env: Record<string, string>
  restartPolicy: RestartPolicyOptions
  /** How long a stop of flows may take before Node-RED is killed instead. */
  stopBoundMs: number
  /** How long Node-RED may take to load its flows before it counts as failed. */
  bootTimeoutMs: number
  /** Load-balanced: how long a stopping agent fails /healthz before it stops flows (0 in hot-spare). */
  drainMs: number
}

/** The profile used with no --profile and no ff-ha.yaml: a local hot-spare set on sqlite. */
export const BUILT_IN_PROFILE = 'name: ff-ha\nmode: hot-spare\ntarget: compose\n'

/** The status server's default address: this host only. Containers set FF_HA_STATUS_HOST=0.0.0.0 (probes, HAProxy). */
export const DEFAULT_STATUS_HOST = '127.0.0.1'

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name]
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InputError(`${name}=${JSON.stringify(v)}: must be a port number (1-65535)`, `set ${name} to a free port, or unset it to use the default`)
  return n
}

// A listen address: an IP literal, or a plain host name (resolved at listen). Anything else (spaces, a
// scheme, a port) is a typo that would otherwise surface as a DNS error blamed on the port.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

export function checkListenHost(flag: string, value: string): string {
  if (isIP(value) || HOST_NAME.test(value)) return value
  const port = /^(.+):(\d+)$/.exec(value)
  const hint = port && (isIP(port[1]) || HOST_NAME.test(port[1]))
    ? `give the address alone (${flag} ${port[1]}); the port has its own flag`
    : `an IP address such as 127.0.0.1 (this host only) or 0.0.0.0 (every interface), or a host name`
  throw new InputError(`${flag} ${JSON.stringify(value)}: not an IP address or host name`, hint)
}

/** Resolve flags, environment and profile into one config. Throws InputError (exit 2) on a bad input. */
export function resolveAgentConfig(input: AgentInput, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AgentConfig {
  const replica = input.replica ?? env[ENV.replica]
  if (!replica) throw new InputError(`--replica is required (or ${ENV.replica})`, 'name this replica, e.g. --replica node-red-1')
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(replica)) {
    throw new InputError(`--replica ${JSON.stringify(replica)}: use letters, digits, ".", "_" and "-" (at most 63)`, 'name it like a host, starting with a letter or digit, e.g. --replica node-red-1')
  }
  const profileFlag = input.profile ?? env[ENV.profile]
  let profile: Profile
  let profileSource: string
  if (profileFlag) {
    profile = loadProfile(resolve(cwd, profileFlag))
    profileSource = profileFlag
  } else if (existsSync(join(cwd, DEFAULT_PROFILE_FILE))) {
    profile = loadProfile(join(cwd, DEFAULT_PROFILE_FILE))
    profileSource = DEFAULT_PROFILE_FILE
  } else {
    profile = parseProfileText(BUILT_IN_PROFILE, 'built-in profile')
    profileSource = 'built-in'
  }
  const f = profile.failover
  const timings: Timings = {
    leaseDurationMs: f.leaseDurationMs,
    renewDeadlineMs: f.renewDeadlineMs,
    retryPeriodMs: f.retryPeriodMs,
    healthIntervalMs: f.healthIntervalMs,
    healthTimeoutMs: f.healthTimeoutMs,
    healthFailureThreshold: f.healthFailureThreshold,
  }
  const problems = leaseTimingProblems(timings)
  if (problems.length) throw new InputError(`${profileSource}: failover: ${problems[0]}`)

  const tokenEnv = profile.secrets.adminTokenEnv
  const secretEnv = profile.secrets.credentialSecretEnv
  const adminToken = env[tokenEnv]
  if (!adminToken) throw new InputError(`${tokenEnv} is not set: Node-RED's admin API needs the shared admin token`, `export ${tokenEnv}=<a long random string>, the same on every replica`)
  registerSecret(adminToken)
  const credentialSecret = env[secretEnv]
  if (!credentialSecret) throw new InputError(`${secretEnv} is not set: every replica needs the same credential secret`, `export ${secretEnv}=<a long random string>, the same on every replica`)
  registerSecret(credentialSecret)

  const userDir = resolve(cwd, input.userDir ?? env[ENV.userDir] ?? '/data')
  const nodeRedPort = input.nodeRedPort ?? envInt(env, ENV.nodeRedPort) ?? profile.http.port
  const statusPort = input.statusPort ?? envInt(env, ENV.statusPort) ?? f.statusPort
  if (statusPort === nodeRedPort) throw new InputError(`--status-port ${statusPort} is Node-RED's port too`, 'choose another port for the status server (--status-port) or for Node-RED (--node-red-port)')
  const statusHost = checkListenHost('--status-host', input.statusHost ?? (env[ENV.statusHost] || DEFAULT_STATUS_HOST))
  const nodeRedHost = checkListenHost(ENV.nodeRedHost, env[ENV.nodeRedHost] || '0.0.0.0')
  const settingsFlag = input.settings ?? env[ENV.settings]
  const settingsFile = settingsFlag ? resolve(cwd, settingsFlag) : join(userDir, 'settings.js')
  if (settingsFlag && !existsSync(settingsFile)) throw new InputError(`--settings ${settingsFlag}: no such file`, 'give the path of a Node-RED settings.js, or leave --settings out to render one into the userDir')

  const statusTokenEnv = profile.secrets.statusTokenEnv
  const statusToken = env[statusTokenEnv] || undefined
  registerSecret(statusToken)

  // The shared context store on PostgreSQL: Node-RED's settings.js and the agent's fence both need it.
  const shared = contextPlan(profile).shared
  if (shared?.backend === 'postgres') {
    const url = env[shared.connectionStringEnv]
    if (!url) throw new InputError(`${shared.connectionStringEnv} is not set: the shared context store (nodeRed.contextStorage) needs the PostgreSQL connection string`, `export ${shared.connectionStringEnv}=postgres://user:password@host:5432/db, the same on every replica`)
    registerSecret(url)
  }

  const passEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') passEnv[k] = v
  // Node-RED has no use for the status token: flows must not be able to read it.
  delete passEnv[statusTokenEnv]
  // Flows can tell which replica they run on (env.get("FF_HA_REPLICA")), whether it came by flag or env.
  passEnv[ENV.replica] = replica
  // The file holding this replica's lease token, which the shared context store reads at every write.
  passEnv[ENV.contextTokenFile] = contextTokenFile(userDir)

  return {
    replica,
    profile,
    profileSource,
    mode: profile.mode,
    userDir,
    nodeRedPort,
    nodeRedHost,
    statusPort,
    statusHost,
    ...(statusToken ? {statusToken} : {}),
    lease: {
      backend: f.lease,
      name: env[ENV.leaseName] || defaultLeaseName(profile),
      namespace: profile.kubernetes.namespace,
      ...leaseBackend(f.lease).options({profile, ...(input.leaseFile ? {leaseFile: input.leaseFile} : {}), env, cwd}),
    } as LeaseConfig,
    settingsFile,
    command: input.command ?? [],
    major: profile.nodeRed.version.startsWith('5.') ? 5 : 4,
    timings,
    witness: f.witness,
    adminToken,
    env: passEnv,
    restartPolicy: DEFAULT_RESTART_POLICY,
    // The holder stops leading at renewDeadline; nobody may take over before leaseDuration. Half of that
    // gap for Node-RED to confirm the stop, the rest as margin; then it is killed.
    stopBoundMs: stopBoundMs(timings),
    bootTimeoutMs: 60_000,
    drainMs: drainMs(profile),
  }
}

// The drain is derived from the proxy's check interval (src/model/proxy-checks.ts).
export {drainMs}

/** The settings file exists, or render it from the profile into the userDir (the rendered one is mounted there). */
export function prepareSettings(config: AgentConfig): {rendered: boolean} {
  if (existsSync(config.settingsFile)) return {rendered: false}
  mkdirSync(config.userDir, {recursive: true})
  writeFileSync(config.settingsFile, renderSettings(settingsValuesFromProfile(config.profile)))
  return {rendered: true}
}
