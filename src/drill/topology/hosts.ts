import {randomBytes} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {AgentStatusClient} from '../../admin/agent.js'
import type {FlowNode} from '../../admin/types.js'
import {deployFlows} from '../../deploy/deploy.js'
import {RemoteError} from '../../errors.js'
import {pollUntil} from '../../io/poll.js'
import {modeOf} from '../../modes/index.js'
import {registerSecret} from '../../output/secrets.js'
import {exited, stopProcess, waitForExit} from '../../process/run.js'
import type {Profile} from '../../profile/schema.js'
import {startBroker} from '../broker.js'
import {now, sleep} from '../clock.js'
import {PROBE_PATH, withProbe} from '../probe.js'
import type {Resources} from '../processes.js'
import {unsupportedOn} from '../targets.js'
import {isEtcdFault, type EtcdFault, type RoleEvent, type ScenarioName} from '../types.js'
import {etcdDataDir, etcdUnavailable, startEtcdCluster, type EtcdCluster} from './hosts-etcd.js'
import {etcdLeaseAvailable, writeHostsAgentProfile, type HostsLease} from './hosts-lease.js'
import {applyLocalFault} from './local-faults.js'
import {startLocalProxy, type ProxyChoice} from './local-proxy.js'
import {waitReady, waitSettled, waitSpareOrActive} from './local-readiness.js'
import {agentUrl, nodeRedUrl, planReplicas, spawnAgent, type AgentLaunch, type LocalReplica} from './local-replica.js'
import {createNetns, netnsUnavailable, type NetnsNetwork} from './netns.js'
import type {AppliedFault, Topology} from './types.js'
import {startWitness} from './witness.js'

// The hosts target (`failover-test --target hosts`): several "hosts" on one machine. Three network
// namespaces on a veth bridge; an etcd member in each; an ff-ha agent with its real Node-RED on hosts 0 and
// 1, holding the etcd lease on the three members; host 2 runs only its etcd member (the witness: the third
// vote that lets either Node-RED host survive the other's loss). HAProxy and Mosquitto run on the bridge's
// side, as a load balancer and a broker outside the hosts would. Cutting a host's veth cuts everything on it
// off at once. The observer, traffic and metrics are the drill's own.

/** Hosts 0 and 1 run Node-RED; host 2 is the witness (its etcd member only). */
export const HOSTS = 3
export const NODE_RED_HOSTS = 2
export const WITNESS_HOST = 2

export interface HostsOptions {
  profile: Profile
  profileText: string
  userFlows: FlowNode[]
  proxy: ProxyChoice
  mqtt: boolean
  resources: Resources
  log?: (line: string) => void
}

/** Why the hosts target cannot run here (root, etcd), or undefined. */
export function hostsUnavailable(): string | undefined {
  return netnsUnavailable() ?? etcdUnavailable()
}

export async function startHostsTopology(options: HostsOptions): Promise<Topology> {
  const why = hostsUnavailable()
  if (why) throw new RemoteError(`--target hosts cannot run here: ${why}`, {hint: 'run it as root on Linux with iproute2 and etcd (apt-get install iproute2 etcd-server)'})
  const {resources} = options
  const profile: Profile = {...options.profile, replicas: NODE_RED_HOSTS}
  const say = options.log ?? (() => {})
  const dir = resources.dir(mkdtempSync(join(tmpdir(), 'ff-ha-drill-')))
  const token = randomBytes(24).toString('hex')
  const secret = randomBytes(24).toString('hex')
  // The agents' status token: /status, /metrics and POST /handover (the deploy scenario hands over) need it.
  const statusToken = randomBytes(24).toString('hex')
  registerSecret(token)
  registerSecret(secret)
  registerSecret(statusToken)
  const runId = randomBytes(4).toString('hex')
  const mode = profile.mode
  const roleEvents: RoleEvent[] = []
  const agents = new AgentStatusClient({timeoutMs: 1000, token: statusToken})
  resources.onCleanup(() => agents.close())

  say(`creating ${HOSTS} hosts (network namespaces on a bridge)`)
  const net: NetnsNetwork = await createNetns(HOSTS, {forward: true})
  resources.onCleanup(() => net.destroy())
  const hostOf = (i: number) => net.replicas[i]

  say('starting etcd, one member per host')
  const etcd: EtcdCluster = await startEtcdCluster(
    net.replicas.map((h, i) => ({name: `host-${i}`, address: h.address, dataDir: etcdDataDir(dir, `host-${i}`), exec: net.exec(h.namespace)})),
    resources,
    `ff-ha-drill-${runId}`,
  )

  const lease: HostsLease = etcdLeaseAvailable()
    ? writeHostsAgentProfile(dir, options.profileText, {etcdEndpoints: etcd.endpoints})
    : writeHostsAgentProfile(dir, options.profileText, {witness: await startWitness(net.gateway, resources)})
  if (lease.backend !== 'etcd') say(`lease: ${lease.description}`)
  const timings = lease.agentProfile.failover

  const brokerChoice = await startBroker({want: options.mqtt ? 'auto' : 'off', profileBrokerUrl: profile.mqtt.broker, dir, resources, bindAddress: net.gateway, hostForReplicas: net.gateway})
  const broker = 'broker' in brokerChoice ? brokerChoice.broker : undefined

  const launch: AgentLaunch = {profile, profileFile: lease.profileFile, leaseFile: join(dir, 'lease.db'), token, statusToken, secret, resources, roleEvents}
  const replicas = await planReplicas(profile, dir, net)
  const byName = new Map(replicas.map(r => [r.name, r]))
  const hostIndex = (r: LocalReplica) => net.replicas.findIndex(h => h.namespace === r.namespace)

  say(`starting ${replicas.length} agents with Node-RED on hosts 0 and 1 (${mode}, lease ${lease.backend})`)
  for (const r of replicas) spawnAgent(r, launch)
  await Promise.all(replicas.map(r => waitReady(r, agents, mode, 120_000)))

  let generation = 1
  const drillFlows = (id = runId) => withProbe(options.userFlows, {mode, runId: id, broker: broker && {host: broker.host, port: broker.port}, shareGroup: profile.mqtt.shareGroup, generation})
  const targets = replicas.map(r => ({name: r.name, url: nodeRedUrl(r), agentUrl: agentUrl(r)}))
  const deploy = async () => {
    const report = await deployFlows({flows: drillFlows(), replicas: targets, auth: {token}, statusToken, mode, verifyTimeoutMs: 30_000})
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

  const get = (name: string): LocalReplica => {
    const r = byName.get(name)
    if (!r) throw new RemoteError(`no replica ${name} on the hosts (they run ${replicas.map(x => x.name).join(', ')})`)
    return r
  }
  // What each etcd fault did, to undo in recover()
  const undo = new Map<AppliedFault, () => Promise<void>>()

  const applyEtcdFault = async (scenario: EtcdFault, victim: string): Promise<AppliedFault> => {
    const watch = timings.leaseDurationMs + timings.renewDeadlineMs
    switch (scenario) {
      case 'etcd-leader-kill': {
        const leader = await etcd.leader()
        say(`etcd-leader-kill: the leader is ${leader.name}`)
        await etcd.kill(leader)
        const fault: AppliedFault = {scenario, replica: victim, observeUntil: now() + watch}
        undo.set(fault, () => etcd.restart(leader))
        return fault
      }
      case 'etcd-member-partition': {
        // the witness host: cutting a Node-RED host would cut its agent too (that is the partition scenario)
        const witness = hostOf(WITNESS_HOST)
        await net.cut(witness)
        const fault: AppliedFault = {scenario, replica: victim, observeUntil: now() + watch}
        undo.set(fault, async () => {
          await net.heal(witness)
          await etcd.waitHealthy()
        })
        return fault
      }
      case 'etcd-outage':
      case 'etcd-outage-long': {
        // shorter than the renew deadline: the holder renews once etcd answers and keeps leading. Longer than
        // the renew deadline but shorter than the lease: it must stop leading, and nobody can take over
        // while etcd is down
        const outageMs = scenario === 'etcd-outage' ? etcdShortOutageMs(timings) : etcdLongOutageMs(timings)
        say(`${scenario}: every etcd member stopped for ${outageMs} ms (lease ${timings.leaseDurationMs} ms, renew deadline ${timings.renewDeadlineMs} ms)`)
        etcd.pause()
        try {
          await sleep(outageMs)
        } finally {
          etcd.resume()
        }
        const healedAt = now()
        const fault: AppliedFault = {scenario, replica: victim, healedAt, observeUntil: healedAt + watch}
        undo.set(fault, () => etcd.waitHealthy())
        return fault
      }
    }
  }

  return {
    target: 'hosts',
    mode,
    replicas: targets,
    probeUrl,
    proxy: proxy.name,
    mqttUrl: broker?.url,
    broker: broker ? broker.description : 'off' in brokerChoice ? brokerChoice.off : 'off',
    lease: lease.description,
    runId,
    token,
    statusToken,
    roleEvents,
    async statuses() {
      return new Map(await Promise.all(replicas.map(async r => [r.name, await agents.status(r.name, agentUrl(r))] as const)))
    },
    unsupported(scenario: ScenarioName) {
      if (isEtcdFault(scenario) && lease.backend !== 'etcd') return 'the agents hold the sqlite fallback lease (this build has no etcd lease backend): an etcd fault would not touch it'
      if (isEtcdFault(scenario) && !modeOf(mode).singleActive) return `${mode} mode holds no lease: an etcd fault changes nothing`
      return unsupportedOn('hosts', scenario)
    },
    async applyFault(scenario, name) {
      if (isEtcdFault(scenario)) return applyEtcdFault(scenario, name)
      const r = get(name)
      if (scenario === 'host-loss') {
        // the host's etcd member dies with it (the link is cut in the same instant by applyLocalFault)
        const member = etcd.members[hostIndex(r)]
        const fault = await Promise.all([etcd.kill(member), applyLocalFault(scenario, r, {agents, net})]).then(([, f]) => f)
        undo.set(fault, async () => {
          await net.heal(hostOf(hostIndex(r)))
          await etcd.restart(member)
        })
        return fault
      }
      return applyLocalFault(scenario, r, {agents, net})
    },
    async recover(fault) {
      const undone = undo.get(fault)
      undo.delete(fault)
      if (undone) await undone()
      if (isEtcdFault(fault.scenario)) return
      const r = get(fault.replica)
      if (fault.scenario === 'graceful' || fault.scenario === 'replica-crash' || fault.scenario === 'host-loss') {
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
      // the resources registry stops the agents and etcd members and removes the namespaces
    },
  }
}

/** The short outage: half the renew deadline, so that a renew sent just before it still counts after it. */
export function etcdShortOutageMs(t: {renewDeadlineMs: number; retryPeriodMs: number}): number {
  return Math.max(100, Math.floor(Math.min(t.renewDeadlineMs - 2 * t.retryPeriodMs, t.renewDeadlineMs / 2)))
}

/** The long outage: past the renew deadline (the holder must stop) but short of the lease. */
export function etcdLongOutageMs(t: {leaseDurationMs: number; renewDeadlineMs: number}): number {
  return Math.floor((t.renewDeadlineMs + t.leaseDurationMs) / 2)
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
