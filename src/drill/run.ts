import type {FlowNode} from '../admin/types.js'
import {CheckFailedError, errorMessage} from '../errors.js'
import type {Profile} from '../profile/schema.js'
import {measureColdStart} from './baseline.js'
import {runIteration} from './iteration.js'
import {iterationMetrics} from './metrics.js'
import {Resources} from './processes.js'
import {scenarioResult, skippedScenario} from './slo.js'
import {startLocalTopology} from './topology/local.js'
import type {DeployStrategy} from '../modes/index.js'
import {netnsUnavailable} from './topology/netns.js'
import type {Topology} from './topology/types.js'
import {connectMqttTraffic, type MqttTraffic} from './traffic/mqtt.js'
import type {DrillReport, DrillTarget, IterationMetrics, IterationTimeline, ScenarioName, ScenarioResult} from './types.js'
import {faultClassCoverage} from './targets.js'
import {startHostsTopology} from './topology/hosts.js'
import {ENV} from '../model/env.js'

export interface DrillOptions {
  profile: Profile
  /** The profile's YAML (the local agents get a copy). */
  profileText: string
  flows: FlowNode[]
  target: DrillTarget
  scenarios: ScenarioName[]
  iterations: number
  mqtt: boolean
  rate: number
  proxy?: 'auto' | 'haproxy' | 'builtin'
  /** Measure the cold-start baseline (default true). */
  baseline?: boolean
  clusterFile?: string
  /** Local target: the deploy scenario's strategy (default: the mode's; the bench compares in-place and handover). */
  deployStrategy?: DeployStrategy
  /** Attach targets: a function that builds the topology (compose, kubernetes). */
  attach?: (resources: Resources) => Promise<Topology>
  /** The caller's registry, so that Ctrl-C can clean up while the drill waits. */
  resources?: Resources
  signal?: AbortSignal
  log?: (line: string) => void
}

// The drill: per topology (the local target runs the partition drill in a second, network-namespaced
// set-up), each scenario --iterations times, then the figures and the verdicts.
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const started = Date.now()
  const resources = options.resources ?? new Resources()
  const log = options.log ?? (() => {})
  const results = new Map<ScenarioName, ScenarioResult>()
  let coldStartMs: number | null = null
  let proxy = 'none'
  let broker = 'off'
  let lease: string | undefined
  const groups: {network: 'loopback' | 'netns' | 'hosts'; scenarios: ScenarioName[]}[] = []
  if (options.target === 'local') {
    const plain = options.scenarios.filter(s => s !== 'partition')
    if (plain.length) groups.push({network: 'loopback', scenarios: plain})
    if (options.scenarios.includes('partition')) {
      const why = netnsUnavailable()
      if (why) results.set('partition', skippedScenario('partition', why))
      else groups.push({network: 'netns', scenarios: ['partition']})
    }
  } else if (options.target === 'hosts') groups.push({network: 'hosts', scenarios: options.scenarios})
  else groups.push({network: 'loopback', scenarios: options.scenarios})

  try {
    for (const group of groups) {
      checkAborted(options.signal)
      const topology = options.attach
        ? await options.attach(resources)
        : group.network === 'hosts'
          ? await startHostsTopology({profile: options.profile, profileText: options.profileText, userFlows: options.flows, proxy: options.proxy ?? 'auto', mqtt: options.mqtt, resources, log})
          : await startLocalTopology({
            profile: options.profile,
            profileText: options.profileText,
            userFlows: options.flows,
            network: group.network === 'netns' ? 'netns' : 'loopback',
            proxy: options.proxy ?? 'auto',
            mqtt: options.mqtt,
            resources,
            clusterFile: options.clusterFile,
            deployStrategy: options.deployStrategy,
            log,
          })
      proxy = topology.proxy
      broker = topology.broker
      lease = topology.lease ?? lease
      let mqtt: MqttTraffic | undefined
      try {
        if (options.mqtt && topology.mqttUrl) mqtt = await connectMqttTraffic({url: topology.mqttUrl, runId: topology.runId, rate: options.rate})
        if (coldStartMs === null && options.baseline !== false && (options.target === 'local' || options.target === 'hosts')) {
          log('measuring the cold-start baseline (a fresh Node-RED with the same flows, spawn to serving)')
          coldStartMs = await measureColdStart({flows: topology.baselineFlows(), env: coldEnv(options.profile, topology), resources})
        }
        for (const scenario of group.scenarios) {
          const why = topology.unsupported(scenario)
          if (why) {
            results.set(scenario, skippedScenario(scenario, why))
            continue
          }
          const iterations: IterationMetrics[] = []
          const timelines: IterationTimeline[] = []
          const errors: string[] = []
          for (let i = 1; i <= options.iterations; i++) {
            checkAborted(options.signal)
            log(`${scenario} ${i}/${options.iterations}`)
            try {
              const timeline = await runIteration(topology, scenario, {rate: options.rate, mqtt, iteration: i})
              timelines.push(timeline)
              const m = iterationMetrics(timeline, i)
              iterations.push(m)
              log(`${scenario} ${i}/${options.iterations}: MTTR ${m.mttrMs} ms, detection ${m.detectionMs ?? '-'} ms, ${m.httpFailed} failed, new active ${m.newActive ?? '-'}`)
            } catch (err) {
              checkAborted(options.signal)
              errors.push(`iteration ${i}: ${errorMessage(err)}`)
              break
            }
          }
          const result = scenarioResult(scenario, topology.mode, iterations, options.profile.slo, null, timelines)
          if (errors.length) {
            result.failures.push(...errors)
            result.passed = false
          }
          results.set(scenario, result)
        }
      } finally {
        await mqtt?.close()
        await topology.close()
        await resources.cleanup()
      }
    }
  } finally {
    await resources.cleanup()
  }
  const scenarios = options.scenarios.map(s => results.get(s)!).filter(Boolean)
  for (const s of scenarios) {
    if (s.mttrMs.p50 !== null && coldStartMs) s.ratioToColdStart = Math.round((s.mttrMs.p50 / coldStartMs) * 1000) / 1000
  }
  return {
    target: options.target,
    mode: options.profile.mode,
    proxy,
    broker,
    ...(lease ? {lease} : {}),
    baseline: {coldStartMs},
    slo: options.profile.slo,
    scenarios,
    faultClasses: faultClassCoverage(options.target, scenarios),
    passed: scenarios.every(s => s.passed),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  }
}

function coldEnv(profile: Profile, topology: Topology): Record<string, string> {
  return {[profile.secrets.adminTokenEnv]: topology.token ?? 'cold-start-token', [profile.secrets.credentialSecretEnv]: 'cold-start-secret-0000', [ENV.nodeRedLogLevel]: 'warn'}
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CheckFailedError('the drill was interrupted before it ended: no verdict', 'run it again and let it finish')
}
