import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import type {FlowNode, ReplicaTarget} from '../admin/types.js'
import {discoverReplicas} from '../deploy/discovery/index.js'
import {parseTarget} from '../deploy/discovery/targets.js'
import {InputError} from '../errors.js'
import {readFlowsFile} from '../flows/parse.js'
import {registerSecret} from '../output/secrets.js'
import {examplesDir} from '../paths.js'
import {DEFAULT_PROFILE_FILE, loadProfile, parseProfileText} from '../profile/load.js'
import type {Profile} from '../profile/schema.js'
import {drillHtml} from './report/html.js'
import {drillJunit} from './report/junit.js'
import type {Resources} from './processes.js'
import {runDrill} from './run.js'
import {attachTopology, composeFaults, kubernetesFaults} from './topology/attach.js'
import {ALL_SCENARIOS, type DrillReport, type ScenarioName} from './types.js'
import {DEFAULT_CLUSTER_FILE} from '../paths.js'

// `ff-ha failover-test`: resolve the inputs (exit 2 on bad ones), run the drill, write the JUnit and HTML
// files. The command only parses flags and prints.

export const DEFAULT_DRILL_PROFILE = 'name: ff-ha-drill\n'

export interface FailoverTestInput {
  profileFile?: string
  flowsFile?: string
  target: string
  scenarios?: string
  iterations: number
  traffic: string
  rate: number
  proxy: string
  junitFile?: string
  reportFile?: string
  keep: boolean
  clusterFile?: string
  url?: string
  mqttUrl?: string
  agentUrls?: string[]
  targets?: string[]
  cwd?: string
  resources?: Resources
  signal?: AbortSignal
  log?: (line: string) => void
}

export interface FailoverTestResult {
  report: DrillReport
  profileSource: string
  flowsSource: string
}

export async function runFailoverTest(input: FailoverTestInput): Promise<FailoverTestResult> {
  const cwd = input.cwd ?? process.cwd()
  const {profile, profileText, profileSource} = resolveProfileInput(input.profileFile, cwd)
  const {flows, flowsSource} = resolveFlows(input.flowsFile)
  const target = oneOf(input.target, ['local', 'hosts', 'compose', 'kubernetes'] as const, '--target')
  const scenarios = parseScenarios(input.scenarios)
  const traffic = new Set(input.traffic.split(',').map(s => s.trim()).filter(Boolean))
  for (const t of traffic) if (t !== 'http' && t !== 'mqtt') throw new InputError(`--traffic: unknown kind "${t}"`, 'use http, mqtt or http,mqtt')
  if (!traffic.has('http')) throw new InputError('--traffic must include http: MTTR is measured on HTTP requests through the proxy')
  if (!Number.isInteger(input.iterations) || input.iterations < 1) throw new InputError('--iterations must be a whole number >= 1')
  if (!(input.rate >= 1 && input.rate <= 1000)) throw new InputError('--rate must be between 1 and 1000 requests per second')
  const proxy = oneOf(input.proxy, ['auto', 'haproxy', 'builtin'] as const, '--proxy')
  for (const f of [input.junitFile, input.reportFile]) if (f && !existsSync(dirname(resolve(cwd, f)))) throw new InputError(`${f}: its directory does not exist`)

  let attach: Parameters<typeof runDrill>[0]['attach']
  if (target === 'compose' || target === 'kubernetes') {
    // compose: the rendered project publishes HAProxy on compose.ports.http, the bundled broker on 127.0.0.1
    const url = input.url ?? (target === 'compose' ? `http://127.0.0.1:${profile.compose.ports.http}/` : undefined)
    if (!url) throw new InputError(`--target ${target} attaches to a running set-up: --url (the proxy or Service that clients use) is required`)
    if (target === 'compose' && !input.mqttUrl && profile.mqtt.bundled) input = {...input, mqttUrl: `mqtt://127.0.0.1:${profile.compose.ports.mqtt}`}
    const token = process.env[profile.secrets.adminTokenEnv]
    const statusToken = process.env[profile.secrets.statusTokenEnv] || undefined
    registerSecret(token)
    registerSecret(statusToken)
    attach = async () => {
      // --agent-url alone: no discovery (and no deploy of the probe: it must already be there)
      const found = input.agentUrls?.length && !input.targets?.length ? {replicas: [], close: async () => {}} : await discoverReplicas({profile, targets: input.targets, source: input.targets?.length ? undefined : target})
      const replicas = withAgentUrls(found.replicas, input.agentUrls ?? [])
      const faults = target === 'compose' ? composeFaults({project: profile.compose.project, name: profile.name}) : kubernetesFaults(profile.kubernetes.namespace)
      return attachTopology({target, profile, url, mqttUrl: traffic.has('mqtt') ? input.mqttUrl : undefined, replicas, faults, token, statusToken, userFlows: flows, deploy: Boolean(token) && replicas.every(r => r.url), close: found.close})
    }
  }

  if (input.resources) input.resources.keepDirs = input.keep
  const report = await runDrill({
    profile,
    profileText,
    flows,
    target,
    scenarios,
    iterations: input.iterations,
    mqtt: traffic.has('mqtt'),
    rate: input.rate,
    proxy,
    clusterFile: input.keep ? resolve(cwd, input.clusterFile ?? DEFAULT_CLUSTER_FILE) : undefined,
    attach,
    resources: input.resources,
    signal: input.signal,
    log: input.log,
  })
  if (input.junitFile) write(resolve(cwd, input.junitFile), drillJunit(report))
  if (input.reportFile) write(resolve(cwd, input.reportFile), drillHtml(report))
  return {report, profileSource, flowsSource}
}

export function resolveProfileInput(file: string | undefined, cwd: string): {profile: Profile; profileText: string; profileSource: string} {
  if (file) return {profile: loadProfile(file), profileText: readFileSync(file, 'utf8'), profileSource: file}
  const local = join(cwd, DEFAULT_PROFILE_FILE)
  if (existsSync(local)) return {profile: loadProfile(local), profileText: readFileSync(local, 'utf8'), profileSource: DEFAULT_PROFILE_FILE}
  return {profile: parseProfileText(DEFAULT_DRILL_PROFILE, 'built-in'), profileText: DEFAULT_DRILL_PROFILE, profileSource: 'built-in (local hot-spare, 2 replicas)'}
}

export function resolveFlows(file: string | undefined): {flows: FlowNode[]; flowsSource: string} {
  if (file) return {flows: readFlowsFile(file).nodes, flowsSource: file}
  const bundled = join(examplesDir, 'flows.json')
  if (existsSync(bundled)) return {flows: readFlowsFile(bundled).nodes, flowsSource: 'the bundled examples/flows.json'}
  return {flows: [], flowsSource: 'none (the probe tab only)'}
}

export function parseScenarios(list: string | undefined): ScenarioName[] {
  if (!list || list === 'all') return [...ALL_SCENARIOS]
  const out: ScenarioName[] = []
  for (const raw of list.split(',').map(s => s.trim()).filter(Boolean)) {
    if (!(ALL_SCENARIOS as string[]).includes(raw)) throw new InputError(`--scenario: unknown scenario "${raw}"`, `choose from ${ALL_SCENARIOS.join(', ')}`)
    if (!out.includes(raw as ScenarioName)) out.push(raw as ScenarioName)
  }
  if (out.length === 0) throw new InputError('--scenario: empty list', `choose from ${ALL_SCENARIOS.join(', ')}`)
  return out
}

/** --agent-url name=URL: the agent status URL of each replica (overrides discovery's). */
export function withAgentUrls(replicas: ReplicaTarget[], specs: string[]): ReplicaTarget[] {
  const out = replicas.map(r => ({...r}))
  for (const spec of specs) {
    const t = parseTarget(spec)
    const hit = out.find(r => r.name === t.name)
    if (hit) hit.agentUrl = t.url
    else out.push({name: t.name, url: '', agentUrl: t.url})
  }
  return out
}

function oneOf<T extends string>(value: string, options: readonly T[], flag: string): T {
  if (!(options as readonly string[]).includes(value)) throw new InputError(`${flag}: "${value}" is not one of ${options.join(', ')}`)
  return value as T
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, text)
}
