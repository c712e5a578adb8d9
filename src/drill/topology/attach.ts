import {randomBytes} from 'node:crypto'
import {AgentStatusClient} from '../../admin/agent.js'
import type {FlowNode, ReplicaTarget} from '../../admin/types.js'
import {deployFlows} from '../../deploy/deploy.js'
import {runTool} from '../../deploy/discovery/tool.js'
import {composeContainers, containerId, replicaName, selectReplicas} from '../../deploy/discovery/compose.js'
import {RemoteError, errorMessage} from '../../errors.js'
import type {Profile} from '../../profile/schema.js'
import {pollUntil} from '../../io/poll.js'
import {sleep} from '../clock.js'
import {PROBE_PATH, PROBE_WRITES_PATH, probesSharedContext, withProbe} from '../probe.js'
import {unsupportedOn} from '../targets.js'
import {isEtcdFault, type EtcdFault, type ScenarioName} from '../types.js'
import type {AppliedFault, Topology} from './types.js'

// Compose and Kubernetes targets: attach to a running set-up. Traffic goes to --url (the proxy, the
// Service / Ingress) and --mqtt-url; roles come from the agents' /status; faults are the orchestrator's
// own commands. The measuring code is the local target's. Which faults each orchestrator can apply:
//   compose (plain `docker` on the container, found by its labels before every fault, so the same for
//   Compose v2 and docker-compose 1.29):
//     crash          docker exec <c> sh -c 'kill -s KILL <Node-RED pid>'   (the agent restarts Node-RED)
//     replica-crash  docker kill <c>, then docker start <c> (`docker kill` does not trigger the restart policy)
//     hang           docker exec <c> sh -c 'kill -s STOP <Node-RED pid>'   (CONT after the iteration)
//     freeze         docker pause / unpause, retried: the cgroup v1 freezer fails now and then under load
//     graceful       docker stop <c> (its stop_grace_period), then docker start <c>
//   kubernetes:
//     crash          kubectl exec <pod> -- kill -KILL <Node-RED pid>
//     replica-crash  kubectl delete pod --grace-period=0 --force
//     hang           kubectl exec <pod> -- kill -STOP <Node-RED pid>
//     graceful       kubectl delete pod (its grace period)
// Not here (src/drill/targets.ts says why, per target): partition, host-loss, the etcd faults, and on
// Kubernetes freeze.

export type AttachFault = Exclude<ScenarioName, 'deploy' | 'partition' | 'host-loss' | EtcdFault>

export interface FaultRunner {
  /** Why a scenario cannot run on this target, or undefined. */
  unsupported(scenario: ScenarioName): string | undefined
  apply(scenario: AttachFault, replica: string, nodeRedPid: number | null): Promise<{heal?: () => Promise<void>; after?: () => Promise<void>}>
}

export interface ToolEnv {
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface ComposeFaultTarget {
  /** The Compose project (when one profile runs in several). */
  project: string
  /** The profile name: replica containers carry io.ff-ha.profile=<name>. */
  name: string
}

/** Tries and the pause between them for docker pause / unpause (cgroup v1's freezer can fail under load). */
export const PAUSE_TRIES = 4
const PAUSE_RETRY_MS = 500

export function composeFaults(target: ComposeFaultTarget, tool: ToolEnv = {}): FaultRunner {
  const docker = (args: string[]) => runTool('docker', args, {...tool, timeoutMs: 60_000})
  // Discovery on every use: the container that is <replica> now (ids change when a project is re-created).
  const container = async (replica: string): Promise<string> => {
    const found = selectReplicas(await composeContainers({...tool, project: target.project, name: target.name, port: 0}), target.name)
    const c = found.find(x => replicaName(x) === replica)
    if (!c) throw new RemoteError(`no container for replica ${replica} (profile ${target.name})`, {replica, hint: 'is the project up? docker ps --filter label=io.ff-ha.profile=' + target.name})
    return containerId(c)
  }
  const inNodeRed = (id: string, sig: string, pid: number | null, replica: string) => {
    if (!pid) throw new RemoteError(`${replica}: the agent reports no Node-RED pid`, {replica})
    // sh's own kill: the Debian variants of the image have no kill binary
    return docker(['exec', id, 'sh', '-c', `kill -s ${sig} ${Math.trunc(pid)}`])
  }
  const retried = async (verb: 'pause' | 'unpause', id: string, replica: string, wanted: boolean) => {
    let last = ''
    for (let i = 1; i <= PAUSE_TRIES; i++) {
      try {
        await docker([verb, id])
      } catch (err) {
        last = errorMessage(err)
      }
      // whatever docker said, the engine's state decides (a pause that failed is never counted as applied)
      const paused = (await docker(['inspect', '--format', '{{.State.Paused}}', id]).catch(() => '')).trim() === 'true'
      if (paused === wanted) return
      if (i < PAUSE_TRIES) await sleep(PAUSE_RETRY_MS)
    }
    throw new RemoteError(`docker ${verb} of ${replica} failed ${PAUSE_TRIES} times${last ? `: ${last}` : ''}`, {replica, hint: verb === 'pause' ? 'the cgroup freezer could not freeze the container; the freeze was not applied' : `run docker unpause ${id}`})
  }
  return {
    unsupported: s => unsupportedOn('compose', s),
    async apply(scenario, replica, pid) {
      const id = await container(replica)
      switch (scenario) {
        case 'crash':
          await inNodeRed(id, 'KILL', pid, replica)
          return {}
        case 'replica-crash':
          await docker(['kill', id])
          return {after: async () => void (await docker(['start', id]))}
        case 'hang':
          await inNodeRed(id, 'STOP', pid, replica)
          return {after: async () => void (await inNodeRed(id, 'CONT', pid, replica).catch(() => ''))}
        case 'freeze':
          await retried('pause', id, replica, true)
          return {heal: () => retried('unpause', id, replica, false)}
        case 'graceful':
          await docker(['stop', id])
          return {after: async () => void (await docker(['start', id]))}
      }
    },
  }
}

export function kubernetesFaults(namespace: string, tool: ToolEnv = {}): FaultRunner {
  const k = (args: string[]) => runTool('kubectl', ['-n', namespace, ...args], {...tool, timeoutMs: 60_000})
  return {
    unsupported: s => unsupportedOn('kubernetes', s),
    async apply(scenario, pod, pid) {
      switch (scenario) {
        case 'crash':
          if (!pid) throw new RemoteError(`${pod}: the agent reports no Node-RED pid`, {replica: pod})
          await k(['exec', pod, '--', 'kill', '-KILL', String(pid)])
          return {}
        case 'replica-crash':
          await k(['delete', 'pod', pod, '--grace-period=0', '--force'])
          return {}
        case 'hang':
          if (!pid) throw new RemoteError(`${pod}: the agent reports no Node-RED pid`, {replica: pod})
          await k(['exec', pod, '--', 'kill', '-STOP', String(pid)])
          return {after: async () => void (await k(['exec', pod, '--', 'kill', '-CONT', String(pid)]).catch(() => ''))}
        case 'graceful':
          await k(['delete', 'pod', pod, '--wait=false'])
          return {}
        case 'freeze':
          throw new RemoteError('freeze is not supported on kubernetes')
      }
    },
  }
}

export interface AttachOptions {
  target: 'compose' | 'kubernetes'
  profile: Profile
  /** The proxy / Service URL that clients use. */
  url: string
  mqttUrl?: string
  /** Replicas with agentUrl (from discovery, the profile or --agent-url). */
  replicas: ReplicaTarget[]
  faults: FaultRunner
  token?: string
  /** The agents' status token (secrets.statusTokenEnv), when they have one: /status and a handover deploy. */
  statusToken?: string
  userFlows: FlowNode[]
  /** Deploy the flows and the probe tab first (needs the admin URLs and the token). */
  deploy: boolean
  close?: () => Promise<void>
}

export async function attachTopology(options: AttachOptions): Promise<Topology> {
  const {profile} = options
  const mode = profile.mode
  const runId = randomBytes(4).toString('hex')
  const missing = options.replicas.filter(r => !r.agentUrl).map(r => r.name)
  if (missing.length) throw new RemoteError(`no agent status URL for ${missing.join(', ')}: roles come from the agents' /status`, {hint: 'publish the agents\' status port, or pass --agent-url name=http://host:port/ for each replica'})
  let generation = 1
  const agents = new AgentStatusClient({timeoutMs: 1500, token: options.statusToken})
  const mqttBroker = options.mqttUrl ? new URL(options.mqttUrl.replace(/^tcp:/, 'mqtt:')) : undefined
  // the replicas reach the broker by the profile's URL (inside the network), the drill by --mqtt-url
  const inner = profile.mqtt.broker ? new URL(profile.mqtt.broker.replace(/^tcp:/, 'mqtt:')) : mqttBroker
  const flows = (id = runId) => withProbe(options.userFlows, {mode, runId: id, broker: inner && {host: inner.hostname, port: Number(inner.port || 1883)}, shareGroup: profile.mqtt.shareGroup, generation, sharedContext: probesSharedContext(profile)})
  const deploy = async () => {
    if (!options.token) throw new RemoteError('the admin token is not set: deploying the probe needs it', {hint: `export ${profile.secrets.adminTokenEnv}`})
    const report = await deployFlows({flows: flows(), replicas: options.replicas, auth: {token: options.token}, statusToken: options.statusToken, mode})
    if (!report.ok) throw new RemoteError(`ff-ha deploy of the drill's flows failed: ${report.error ?? 'see the replicas'}`)
  }
  if (options.deploy) await deploy()
  const statusOf = (r: ReplicaTarget) => agents.status(r.name, r.agentUrl!)
  const byName = new Map(options.replicas.map(r => [r.name, r]))
  const pending = new Map<string, () => Promise<void>>()
  return {
    target: options.target,
    mode,
    // Node-RED's own /flows/state is not reachable from outside in general: the observer reads the
    // agents' flowsState instead
    replicas: options.replicas.map(r => ({name: r.name, agentUrl: r.agentUrl})),
    probeUrl: new URL(PROBE_PATH.slice(1), options.url.endsWith('/') ? options.url : options.url + '/').href,
    ...(probesSharedContext(profile) ? {probeWritesUrl: new URL(PROBE_WRITES_PATH.slice(1), options.url.endsWith('/') ? options.url : options.url + '/').href} : {}),
    proxy: `external (${options.url})`,
    mqttUrl: options.mqttUrl,
    broker: options.mqttUrl ? `external (${mqttBroker!.host})` : 'off: no --mqtt-url',
    runId,
    token: options.token,
    statusToken: options.statusToken,
    roleEvents: [],
    async statuses() {
      return new Map(await Promise.all(options.replicas.map(async r => [r.name, await statusOf(r)] as const)))
    },
    unsupported: s => options.faults.unsupported(s),
    async applyFault(scenario, name) {
      if (scenario === 'partition' || scenario === 'host-loss' || isEtcdFault(scenario)) throw new RemoteError(`${scenario} is not supported on this target`)
      const status = await statusOf(byName.get(name)!)
      const applied = await options.faults.apply(scenario, name, status?.nodeRedPid ?? null)
      if (applied.after) pending.set(name, applied.after)
      return {scenario, replica: name, heal: applied.heal, ...(status?.nodeRedPid ? {nodeRedPid: status.nodeRedPid} : {})}
    },
    async recover(fault: AppliedFault) {
      const after = pending.get(fault.replica)
      pending.delete(fault.replica)
      if (after) await after()
      const r = byName.get(fault.replica)!
      await pollUntil(async () => {
        const s = await statusOf(r)
        return s && (s.role === 'spare' || s.role === 'active') && s.nodeRedPid ? true : undefined
      }, {timeoutMs: 180_000, intervalMs: 250, what: `${fault.replica} back (spare or active, with a Node-RED)`, replica: fault.replica})
      await sleep(200)
    },
    deployNext: async () => {
      generation++
      await deploy()
    },
    baselineFlows: () => flows(`${runId}-cold`),
    async close() {
      await agents.close()
      await options.close?.()
    },
  }
}
