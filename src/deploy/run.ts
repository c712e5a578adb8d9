// What `ff-ha deploy` does, as one call: read the flows (the lint parser), lint them for the mode, read the
// credentials and the auth from the environment, find the replicas, deploy, release what discovery holds.
import {accessSync, constants, existsSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {DEFAULT_MAX_RESPONSE_BYTES, type AdminClientOptions} from '../admin/client.js'
import {InputError, ReportedCheckFailedError} from '../errors.js'
import {readFlowsFile} from '../flows/parse.js'
import type {Progress} from '../output/progress.js'
import {DEFAULT_PROFILE_FILE, loadProfile} from '../profile/load.js'
import type {HaMode, Profile} from '../profile/schema.js'
import {sizeInBytes} from '../model/settings.js'
import {DEFAULT_STATUS_TOKEN_ENV, resolveAuth} from './auth.js'
import {readCredentialsFile} from './credentials.js'
import {deployFlows} from './deploy.js'
import {discoverReplicas, type DiscoveryOptions} from './discovery/index.js'
import {lintGate} from './lint-gate.js'
import {formatDeployReport} from './summary.js'
import type {DeployReport, Strategy} from './types.js'
import {DEFAULT_CLUSTER_FILE} from '../paths.js'
import {DEFAULT_MODE} from '../modes/index.js'

export interface RunDeployInput {
  flowsFile?: string
  /** Explicit --profile; else ./ff-ha.yaml when it exists. */
  profileFile?: string
  targets?: string[]
  discovery?: DiscoveryOptions['source']
  clusterFile?: string
  mode?: HaMode
  strategy?: Strategy
  type?: 'full' | 'flows' | 'nodes'
  maxUnavailable?: number
  credentialsFile?: string
  force?: boolean
  rollback?: boolean
  /** Lint first (default true). */
  lint?: boolean
  dryRun?: boolean
  tokenEnv?: string
  username?: string
  passwordEnv?: string
  /** --no-auth: send no credentials (replicas without adminAuth). */
  noAuth?: boolean
  client?: Omit<AdminClientOptions, 'auth'>
  verifyTimeoutMs?: number
  progress?: Progress
  env?: NodeJS.ProcessEnv
  cwd?: string
}

/**
 * A deploy that ran and did not converge (or a dry run that could not read a replica), thrown by the command
 * so that every failure takes the one error path: --json prints {error: {message, exitCode, hint, report}},
 * the human table still goes to stdout. runDeploy itself returns the report (ok false) to its callers.
 */
export class DeployFailedError extends ReportedCheckFailedError<DeployReport> {
  constructor(report: DeployReport) {
    super(report.error ?? 'deploy failed', {report, text: formatDeployReport(report), hint: report.hint})
  }
}

export async function runDeploy(input: RunDeployInput): Promise<DeployReport> {
  const cwd = input.cwd ?? process.cwd()
  const {profile, profileFile} = findProfile(input.profileFile, cwd)
  const flowsFile = input.flowsFile ?? (profile && profileFile ? resolve(dirname(profileFile), profile.nodeRed.flows) : undefined)
  if (!flowsFile) throw new InputError('which flows file? pass it as the first argument', 'e.g. ff-ha deploy flows.json --target http://127.0.0.1:1880/')
  const mode = input.mode ?? profile?.mode ?? DEFAULT_MODE

  // Paths as the user gave them, so that errors read `flows.json:3:5 ...`, not an absolute path.
  const file = readFlowsFile(input.cwd ? resolve(cwd, flowsFile) : flowsFile)
  if (input.client?.caFile) checkReadable('--ca-file', input.cwd ? resolve(cwd, input.client.caFile) : input.client.caFile, 'give the CA certificate (PEM) that signed the replicas\' certificates')
  if (input.lint !== false) lintGate(file, mode)
  const credentials = input.credentialsFile ? readCredentialsFile(input.cwd ? resolve(cwd, input.credentialsFile) : input.credentialsFile) : undefined
  const auth = resolveAuth({tokenEnv: input.tokenEnv ?? profile?.secrets.adminTokenEnv, username: input.username, passwordEnv: input.passwordEnv, noAuth: input.noAuth, env: input.env})
  const statusToken = (input.env ?? process.env)[profile?.secrets.statusTokenEnv ?? DEFAULT_STATUS_TOKEN_ENV] || undefined
  // Read answers up to the size the replicas accept (their apiMaxLength), and at least the default.
  const apiMaxLength = profile?.nodeRed.apiMaxLength
  const maxResponseBytes = Math.max(DEFAULT_MAX_RESPONSE_BYTES, apiMaxLength ? Math.ceil(sizeInBytes(apiMaxLength) * 1.25) : 0)

  const found = await discoverReplicas({
    targets: input.targets,
    profile,
    source: input.discovery,
    clusterFile: resolve(cwd, input.clusterFile ?? DEFAULT_CLUSTER_FILE),
    env: input.env,
    cwd,
  })
  try {
    input.progress?.info(`deploying ${file.path} (${file.nodes.length} nodes) to ${found.replicas.length} replica${found.replicas.length === 1 ? '' : 's'} from ${found.source}${input.dryRun ? ' (dry run)' : ''}`)
    return await deployFlows({
      flows: file.nodes,
      replicas: found.replicas,
      auth,
      mode,
      strategy: input.strategy,
      type: input.type,
      maxUnavailable: input.maxUnavailable,
      credentials,
      force: input.force,
      rollback: input.rollback,
      dryRun: input.dryRun,
      progress: input.progress,
      clientOptions: {maxResponseBytes, apiMaxLength, ...input.client},
      statusToken,
      verifyTimeoutMs: input.verifyTimeoutMs,
    })
  } finally {
    await found.close()
  }
}

function checkReadable(flag: string, file: string, hint: string): void {
  try {
    if (!statSync(file).isFile()) throw new InputError(`${flag} ${file}: not a file`, hint)
    accessSync(file, constants.R_OK)
  } catch (err) {
    if (err instanceof InputError) throw err
    const code = (err as {code?: string}).code
    throw new InputError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`}`, hint)
  }
}

function findProfile(explicit: string | undefined, cwd: string): {profile?: Profile; profileFile?: string} {
  if (explicit) {
    const file = cwd === process.cwd() ? explicit : resolve(cwd, explicit)
    return {profile: loadProfile(file), profileFile: file}
  }
  const file = join(cwd, DEFAULT_PROFILE_FILE)
  return existsSync(file) ? {profile: loadProfile(file), profileFile: file} : {}
}
