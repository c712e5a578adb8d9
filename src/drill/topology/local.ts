import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {request} from 'undici'
import {AgentStatusClient} from '../../admin/agent.js'
import type {FlowNode} from '../../admin/types.js'
import {deployFlows} from '../../deploy/deploy.js'
import {RemoteError} from '../../errors.js'
import {pollUntil} from '../../io/poll.js'
import {registerSecret} from '../../output/secrets.js'
import {stopProcess, waitForExit, exited} from '../../process/run.js'
import type {Profile} from '../../profile/schema.js'
import {startBroker} from '../broker.js'
import {PROBE_PATH, PROBE_WRITES_PATH, probesSharedContext, withProbe} from '../probe.js'
import type {Resources} from '../processes.js'
import type {RoleEvent, ScenarioName} from '../types.js'
import {writeAgentProfile} from './agent-profile.js'
import {applyLocalFault} from './local-faults.js'
import {startLocalProxy, type ProxyChoice} from './local-proxy.js'
import {waitReady, waitSettled, waitSpareOrActive} from './local-readiness.js'
import {agentUrl, nodeRedUrl, planReplicas, spawnAgent, type AgentLaunch, type LocalReplica} from './local-replica.js'
import {createNetns, type NetnsNetwork} from './netns.js'
import type {Topology} from './types.js'
import {unsupportedOn} from '../targets.js'
import {startWitness} from './witness.js'
import {modeOf, type DeployStrategy} from '../../modes/index.js'
import {DEFAULT_CLUSTER_FILE} from '../../paths.js'

export {agentProfileText} from './agent-profile.js'
export {parseRole} from './role-log.js'

// The local target: the profile's replicas as local processes — ff-ha agents, each with its own real
// Node-RED and temporary userDir, sharing one sqlite lease file — behind HAProxy (the rendered config) or
// the built-in proxy, with Mosquitto when it is on PATH. With network "netns" every replica lives in its
// own network namespace on a bridge, so that one can be cut off (the partition drill). This file only
// puts the pieces together, in order; each piece is a module of its own beside it.

export interface LocalOptions {
  profile: Profile
  /** The profile's YAML text: the agents get a copy of it (with the lease file and witness filled in). */
  profileText: string
  userFlows: FlowNode[]
  network: 'loopback' | 'netns'
  proxy: ProxyChoice
  mqtt: boolean
  resources: Resources
  /** Also write the cluster file here (ff-ha deploy's local discovery), e.g. with --keep. */
  clusterFile?: string
  /** The deploy scenario's strategy (default: the mode's). */
  deployStrategy?: DeployStrategy
  log?: (line: string) => void
}

export async function startLocalTopology(options: LocalOptions): Promise<Topology> {
  const {profile, resources} = options
  const say = options.log ?? (() => {})
  const dir = resources.dir(mkdtempSync(join(tmpdir(), 'ff-ha-drill-')))
  const token = randomBytes(24).toString('hex')
  // The agents' status token: POST /handover needs one, so that the deploy scenario hands over.
  const statusToken = randomBytes(24).toString('hex')
  registerSecret(statusToken)
  const secret = randomBytes(24).toString('hex')
  registerSecret(token)
  registerSecret(secret)
  const runId = randomBytes(4).toString('hex')
  const mode = profile.mode
  const roleEvents: RoleEvent[] = []
  const agents = new AgentStatusClient({timeoutMs: 1000, token: statusToken})
  resources.onCleanup(() => agents.close())

  let net: NetnsNetwork | undefined
  let witness: string | undefined
  if (options.network === 'netns') {
    net = await createNetns(profile.replicas)
    resources.onCleanup(() => net!.destroy())
    witness = await startWitness(net.gateway, resources)
  }

  const brokerChoice = await startBroker({
    want: options.mqtt ? 'auto' : 'off',
    profileBrokerUrl: profile.mqtt.broker,
    dir,
    resources,
    bindAddress: net ? net.gateway : '127.0.0.1',
    hostForReplicas: net ? net.gateway : '127.0.0.1',
  })
  const broker = 'broker' in brokerChoice ? brokerChoice.broker : undefined

  const launch: AgentLaunch = {profile, profileFile: writeAgentProfile(dir, options.profileText, witness), leaseFile: join(dir, 'lease.db'), token, statusToken, secret, resources, roleEvents}
  const replicas = await planReplicas(profile, dir, net)
  const byName = new Map(replicas.map(r => [r.name, r]))

  say(`starting ${replicas.length} agents with Node-RED (${mode}${net ? ', each in its own network namespace' : ''})`)
  for (const r of replicas) spawnAgent(r, launch)
  await Promise.all(replicas.map(r => waitReady(r, agents, mode, 120_000)))

  let generation = 1
  const drillFlows = (id = runId) => withProbe(options.userFlows, {mode, runId: id, broker: broker && {host: broker.host, port: broker.port}, shareGroup: profile.mqtt.shareGroup, generation, sharedContext: probesSharedContext(profile)})
  const targets = replicas.map(r => ({name: r.name, url: nodeRedUrl(r), agentUrl: agentUrl(r)}))
  const deploy = async () => {
    const report = await deployFlows({flows: drillFlows(), replicas: targets, auth: {token}, statusToken, mode, strategy: options.deployStrategy, verifyTimeoutMs: 30_000})
    if (!report.ok) throw new RemoteError(`ff-ha deploy of the drill's flows failed: ${report.error ?? 'see the replicas'}`)
  }
  if (modeOf(mode).singleActive) await waitSettled(replicas, agents, 60_000)
  say('deploying the flows and the probe tab with ff-ha deploy')
  await deploy()

  const proxy = await startLocalProxy({
    choice: options.proxy,
    profile,
    servers: replicas.map(r => ({name: r.name, address: r.host, port: r.nodeRedPort, checkPort: r.statusPort})),
    dir,
    resources,
  })
  const probeUrl = new URL(PROBE_PATH.slice(1), proxy.url).href
  await pollUntil(() => answers200(probeUrl), {timeoutMs: 30_000, intervalMs: 50, what: `the probe answering through the proxy at ${probeUrl}`})

  writeClusterFiles(targets, [join(dir, basename(DEFAULT_CLUSTER_FILE)), ...(options.clusterFile ? [options.clusterFile] : [])])

  const get = (name: string): LocalReplica => {
    const r = byName.get(name)
    if (!r) throw new RemoteError(`no replica ${name} in the local topology (it has ${replicas.map(x => x.name).join(', ')})`)
    return r
  }

  return {
    target: 'local',
    mode,
    replicas: targets,
    probeUrl,
    ...(probesSharedContext(profile) ? {probeWritesUrl: new URL(PROBE_WRITES_PATH.slice(1), proxy.url).href} : {}),
    proxy: proxy.name,
    mqttUrl: broker?.url,
    broker: broker ? broker.description : 'off' in brokerChoice ? brokerChoice.off : 'off',
    runId,
    token,
    statusToken,
    roleEvents,
    async statuses() {
      return new Map(await Promise.all(replicas.map(async r => [r.name, await agents.status(r.name, agentUrl(r))] as const)))
    },
    unsupported(scenario: ScenarioName) {
      if (scenario === 'partition' && !net) return 'runs in its own network-namespace topology'
      return unsupportedOn('local', scenario)
    },
    applyFault: (scenario, name) => applyLocalFault(scenario, get(name), {agents, net}),
    async recover(fault) {
      const r = get(fault.replica)
      if (fault.scenario === 'graceful' || fault.scenario === 'replica-crash') {
        // the agent exits by itself after SIGTERM / SIGKILL; one that hangs on its way out is stopped
        const child = r.child
        if (child && !exited(child) && !(await waitForExit(child, 20_000))) await stopProcess(child, {graceMs: 1000})
        spawnAgent(r, launch)
      }
      await waitReady(r, agents, mode, 90_000)
      if (modeOf(mode).singleActive) await waitSpareOrActive(r, agents, 30_000)
    },
    async deployNext() {
      generation++
      await deploy()
    },
    baselineFlows: () => drillFlows(`${runId}-cold`),
    async close() {
      // the resources registry kills the agents (SIGTERM to each process group, SIGKILL after 3 s)
    },
  }
}

/** The cluster file (ff-ha deploy's local discovery) in the run's directory, and where --keep asks. */
function writeClusterFiles(replicas: {name: string; url: string; agentUrl: string}[], files: string[]): void {
  const cluster = JSON.stringify({replicas}, null, 2) + '\n'
  for (const file of files) {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, cluster)
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await request(url, {headersTimeout: 1000, bodyTimeout: 1000})
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}
