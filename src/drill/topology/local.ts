import type {ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {createInterface} from 'node:readline'
import {Agent, request} from 'undici'
import {parseDocument} from 'yaml'
import type {FlowNode} from '../../admin/types.js'
import {deployFlows} from '../../deploy/deploy.js'
import {BugError, RemoteError} from '../../errors.js'
import {freePorts, freePort} from '../../net/free-port.js'
import {registerSecret} from '../../output/secrets.js'
import {packageRoot} from '../../paths.js'
import {parseProfileText} from '../../profile/load.js'
import type {Profile} from '../../profile/schema.js'
import {startBroker} from '../broker.js'
import {now, sleep, waitFor} from '../clock.js'
import {PROBE_PATH, withProbe} from '../probe.js'
import {killGroup, signal, type Resources} from '../processes.js'
import {startBuiltinProxy, type ProxyServer} from '../proxy/builtin.js'
import {startHaproxy} from '../proxy/haproxy.js'
import {firstLine, which} from '../tools.js'
import type {Role, RoleEvent, ScenarioName} from '../types.js'
import {agentCommand} from './agent-command.js'
import {createNetns, type NetnsNetwork} from './netns.js'
import type {AgentView, AppliedFault, Topology} from './types.js'

// The local target: the profile's replicas as local processes — ff-ha agents, each with its own real
// Node-RED and temporary userDir, sharing one sqlite lease file — behind HAProxy (the rendered config) or
// the built-in proxy, with Mosquitto when it is on PATH. With network "netns" every replica lives in its
// own network namespace on a bridge, so that one can be cut off (the partition drill).

export interface LocalOptions {
  profile: Profile
  /** The profile's YAML text: the agents get a copy of it (with the lease file and witness filled in). */
  profileText: string
  userFlows: FlowNode[]
  network: 'loopback' | 'netns'
  proxy: 'auto' | 'haproxy' | 'builtin'
  mqtt: boolean
  resources: Resources
  /** Also write the cluster file here (ff-ha deploy's local discovery), e.g. with --keep. */
  clusterFile?: string
  log?: (line: string) => void
}

const ROLES = new Set<Role>(['starting', 'spare', 'active', 'fenced', 'stopping'])


interface LocalReplica {
  name: string
  host: string
  nodeRedPort: number
  statusPort: number
  userDir: string
  namespace?: string
  hostVeth?: string
  child?: ChildProcess
  tail: string[]
}

export async function startLocalTopology(options: LocalOptions): Promise<Topology> {
  const {profile, resources} = options
  const say = options.log ?? (() => {})
  const dir = resources.dir(mkdtempSync(join(tmpdir(), 'ff-ha-drill-')))
  const token = randomBytes(24).toString('hex')
  const secret = randomBytes(24).toString('hex')
  registerSecret(token)
  registerSecret(secret)
  const runId = randomBytes(4).toString('hex')
  const mode = profile.mode
  const roleEvents: RoleEvent[] = []
  // A short connect timeout: a partitioned replica drops packets, and undici's default (10 s) would stall every status poll.
  const quick = new Agent({connect: {timeout: 1000}, keepAliveTimeout: 1000})
  resources.onCleanup(() => quick.close())

  let net: NetnsNetwork | undefined
  let witness: string | undefined
  if (options.network === 'netns') {
    net = await createNetns(profile.replicas)
    resources.onCleanup(() => net!.destroy())
    // The witness: an address on the root side of the bridge. A replica cut off the network cannot reach it
    // and must give up its lease (a file lease on one host is otherwise reachable from a partitioned replica).
    const server = await listen(net.gateway)
    resources.onCleanup(() => new Promise<void>(r => server.close(() => r())))
    witness = `${net.gateway}:${(server.address() as {port: number}).port}`
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

  const leaseFile = join(dir, 'lease.db')
  const profileFile = join(dir, 'ff-ha.yaml')
  writeFileSync(profileFile, agentProfileText(options.profileText, witness))
  parseProfileText(readFileSync(profileFile, 'utf8'), profileFile)

  const ports = await freePorts(profile.replicas * 2)
  const replicas: LocalReplica[] = Array.from({length: profile.replicas}, (_, i) => ({
    name: `node-red-${i + 1}`,
    host: net ? net.replicas[i].address : '127.0.0.1',
    nodeRedPort: ports[2 * i],
    statusPort: ports[2 * i + 1],
    userDir: join(dir, `node-red-${i + 1}`),
    namespace: net?.replicas[i].namespace,
    hostVeth: net?.replicas[i].hostVeth,
    tail: [],
  }))
  const byName = new Map(replicas.map(r => [r.name, r]))
  const url = (r: LocalReplica) => `http://${r.host}:${r.nodeRedPort}/`
  const agentUrl = (r: LocalReplica) => `http://${r.host}:${r.statusPort}/`

  const spawnAgent = (r: LocalReplica) => {
    mkdirSync(r.userDir, {recursive: true})
    const cmd = agentCommand()
    const args = [
      ...cmd.args,
      '--replica', r.name,
      '--profile', profileFile,
      '--user-dir', r.userDir,
      '--node-red-port', String(r.nodeRedPort),
      '--status-port', String(r.statusPort),
      // in a namespace, listen on all of its addresses (the agent reaches its Node-RED on 127.0.0.1)
      '--status-host', r.namespace ? '0.0.0.0' : r.host,
      '--lease-file', leaseFile,
    ]
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      [profile.secrets.adminTokenEnv]: token,
      [profile.secrets.credentialSecretEnv]: secret,
      FF_HA_REPLICA: r.name,
      FF_HA_NODE_RED_HOST: r.namespace ? '0.0.0.0' : r.host,
      FF_HA_NODE_RED_LOG_LEVEL: 'warn',
    }
    const [command, argv] = r.namespace ? ['ip', ['netns', 'exec', r.namespace, cmd.command, ...args]] : [cmd.command, args]
    const child = resources.spawn(command, argv, {cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
    r.child = child
    r.tail = []
    const keep = (line: string) => {
      r.tail.push(line)
      if (r.tail.length > 40) r.tail.shift()
    }
    createInterface({input: child.stdout!}).on('line', line => {
      keep(line)
      const event = parseRole(line)
      if (event) {
        const last = [...roleEvents].reverse().find(e => e.replica === r.name)
        if (last?.role !== event) roleEvents.push({t: now(), replica: r.name, role: event})
      }
    })
    createInterface({input: child.stderr!}).on('line', keep)
  }

  const statusOf = async (r: LocalReplica): Promise<AgentView | undefined> => {
    try {
      const res = await request(new URL('status', agentUrl(r)), {dispatcher: quick, headersTimeout: 1000, bodyTimeout: 1000})
      const body = (await res.body.json()) as AgentView
      return res.statusCode === 200 && ROLES.has(body.role) ? body : undefined
    } catch {
      return undefined
    }
  }
  const healthy = async (r: LocalReplica): Promise<boolean> => {
    try {
      const res = await request(new URL('healthz', agentUrl(r)), {dispatcher: quick, headersTimeout: 1000, bodyTimeout: 1000})
      await res.body.dump()
      return res.statusCode === 200
    } catch {
      return false
    }
  }
  const died = (r: LocalReplica) => {
    if (r.child && r.child.exitCode !== null) {
      throw new RemoteError(`the agent of ${r.name} exited with code ${r.child.exitCode}: ${lastWords(r)}`, {replica: r.name})
    }
  }
  const ready = async (r: LocalReplica, timeoutMs: number) =>
    waitFor(
      async () => {
        died(r)
        const s = await statusOf(r)
        if (!s || !(s.role === 'spare' || s.role === 'active') || !s.nodeRedPid) return undefined
        return mode === 'load-balanced' ? ((await healthy(r)) ? s : undefined) : s
      },
      timeoutMs,
      `${r.name} did not become ready within ${timeoutMs / 1000} s: ${lastWords(r)}`,
      100,
    )

  say(`starting ${replicas.length} agents with Node-RED (${mode}${net ? ', each in its own network namespace' : ''})`)
  for (const r of replicas) spawnAgent(r)
  await Promise.all(replicas.map(r => ready(r, 120_000)))

  let generation = 1
  const drillFlows = (id = runId) => withProbe(options.userFlows, {mode, runId: id, broker: broker && {host: broker.host, port: broker.port}, shareGroup: profile.mqtt.shareGroup, generation})
  const targets = replicas.map(r => ({name: r.name, url: url(r), agentUrl: agentUrl(r)}))
  const deploy = async () => {
    const report = await deployFlows({flows: drillFlows(), replicas: targets, auth: {token}, mode, verifyTimeoutMs: 30_000})
    if (!report.ok) throw new RemoteError(`ff-ha deploy of the drill's flows failed: ${report.error ?? 'see the replicas'}`)
  }
  // Deploy only once the roles have settled: right after boot the winner has started its flows a moment
  // before it reports active, and deploy's preflight rightly refuses a "spare" whose flows run.
  if (mode === 'hot-spare') {
    await waitFor(
      async () => {
        const views = await Promise.all(replicas.map(statusOf))
        const actives = views.filter(v => v?.role === 'active')
        return actives.length === 1 && views.every(v => v?.role === 'active' || (v?.role === 'spare' && v.flowsState === 'stop'))
      },
      60_000,
      'the replicas did not settle into one active and spares within 60 s',
      100,
    )
  }
  say('deploying the flows and the probe tab with ff-ha deploy')
  await deploy()

  const servers: ProxyServer[] = replicas.map(r => ({name: r.name, address: r.host, port: r.nodeRedPort, checkPort: r.statusPort}))
  const bindPort = await freePort()
  const haproxy = options.proxy === 'builtin' ? undefined : which('haproxy')
  if (options.proxy === 'haproxy' && !haproxy) throw new RemoteError('--proxy haproxy: haproxy is not on PATH', {hint: 'apt-get install haproxy, or use --proxy builtin'})
  let proxyName: string
  let proxyUrl: string
  if (haproxy) {
    const p = await startHaproxy(haproxy, profile, {servers, bindPort, bindAddress: '127.0.0.1', dir, resources})
    proxyUrl = p.url
    const version = firstLine(haproxy, ['-v'])?.match(/version (\S+)/)?.[1]
    proxyName = `haproxy${version ? ` ${version}` : ''} (the rendered haproxy.cfg)`
  } else {
    const p = await startBuiltinProxy({mode, servers, bindPort, bindAddress: '127.0.0.1', fall: mode === 'hot-spare' ? 1 : 2})
    resources.onCleanup(() => p.stop())
    proxyUrl = p.url
    proxyName = 'builtin (haproxy not on PATH)'
    if (options.proxy === 'builtin') proxyName = 'builtin (--proxy builtin)'
  }
  const probeUrl = new URL(PROBE_PATH.slice(1), proxyUrl).href
  await waitFor(
    async () => {
      try {
        const res = await request(probeUrl, {headersTimeout: 1000, bodyTimeout: 1000})
        await res.body.dump()
        return res.statusCode === 200
      } catch {
        return false
      }
    },
    30_000,
    `the probe did not answer through the proxy at ${probeUrl} within 30 s`,
    50,
  )

  const cluster = JSON.stringify({replicas: targets}, null, 2) + '\n'
  writeFileSync(join(dir, 'local-cluster.json'), cluster)
  if (options.clusterFile) {
    mkdirSync(dirname(options.clusterFile), {recursive: true})
    writeFileSync(options.clusterFile, cluster)
  }

  const nodeRedPid = async (r: LocalReplica): Promise<number> => {
    const s = await statusOf(r)
    if (!s?.nodeRedPid) throw new RemoteError(`${r.name}: the agent reports no Node-RED pid`, {replica: r.name})
    return s.nodeRedPid
  }
  const get = (name: string): LocalReplica => {
    const r = byName.get(name)
    if (!r) throw new BugError(`the local topology has no replica ${name}`)
    return r
  }

  return {
    target: 'local',
    mode,
    replicas: targets,
    probeUrl,
    proxy: proxyName,
    mqttUrl: broker?.url,
    broker: broker ? broker.description : 'off' in brokerChoice ? brokerChoice.off : 'off',
    runId,
    token,
    roleEvents,
    async statuses() {
      const entries = await Promise.all(replicas.map(async r => [r.name, await statusOf(r)] as const))
      return new Map(entries)
    },
    unsupported(scenario: ScenarioName) {
      if (scenario === 'partition' && !net) return 'runs in its own network-namespace topology'
      return undefined
    },
    async applyFault(scenario, name): Promise<AppliedFault> {
      const r = get(name)
      const agentPid = r.child?.pid
      if (!agentPid) throw new RemoteError(`${name}: its agent process is not running`, {replica: name, hint: 'see the agent\'s log in the drill\'s directory (--keep keeps it)'})
      switch (scenario) {
        case 'crash': {
          const pid = await nodeRedPid(r)
          signal(pid, 'SIGKILL')
          return {scenario, replica: name, nodeRedPid: pid}
        }
        case 'replica-crash': {
          // the whole replica at once, as when its container or host dies: nobody releases the lease
          const pid = await nodeRedPid(r)
          signal(agentPid, 'SIGKILL')
          signal(pid, 'SIGKILL')
          return {scenario, replica: name, nodeRedPid: pid}
        }
        case 'hang': {
          const pid = await nodeRedPid(r)
          signal(pid, 'SIGSTOP')
          return {scenario, replica: name, nodeRedPid: pid, heal: async () => void signal(pid, 'SIGCONT')}
        }
        case 'freeze': {
          const pid = await nodeRedPid(r)
          // both at once: the agent cannot notice, only the lease expiry saves the others
          signal(agentPid, 'SIGSTOP')
          signal(pid, 'SIGSTOP')
          return {
            scenario,
            replica: name,
            nodeRedPid: pid,
            heal: async () => {
              signal(agentPid, 'SIGCONT')
              signal(pid, 'SIGCONT')
            },
          }
        }
        case 'graceful':
          signal(agentPid, 'SIGTERM')
          return {scenario, replica: name}
        case 'partition': {
          if (!net) throw new BugError('the partition scenario ran without the network-namespace topology')
          const nr = net.replicas.find(x => x.namespace === r.namespace)!
          await net.cut(nr)
          return {scenario, replica: name, heal: () => net!.heal(nr)}
        }
      }
    },
    async recover(fault) {
      const r = get(fault.replica)
      if (fault.scenario === 'graceful' || fault.scenario === 'replica-crash') {
        const child = r.child
        if (child && child.exitCode === null && child.signalCode === null) {
          const exited = await Promise.race([new Promise(res => child.once('exit', () => res(true))), sleep(20_000).then(() => false)])
          if (!exited) await killGroup(child, 1000)
        }
        spawnAgent(r)
      }
      await ready(r, 90_000)
      // a spare must be a spare: wait until it no longer claims the lease
      if (mode === 'hot-spare') await waitFor(async () => (await statusOf(r))?.role === 'spare' || (await statusOf(r))?.role === 'active', 30_000, `${r.name} did not come back as a spare`, 100)
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

/** The agents' copy of the profile: a local set (sqlite lease), with the witness when there is one. */
export function agentProfileText(profileText: string, witness?: string): string {
  const doc = parseDocument(profileText)
  doc.set('target', 'compose')
  if (doc.getIn(['failover', 'lease']) === 'kubernetes') doc.deleteIn(['failover', 'lease'])
  if (witness) doc.setIn(['failover', 'witness'], witness)
  return doc.toString()
}

export function parseRole(line: string): Role | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const o = JSON.parse(line) as {event?: unknown; role?: unknown}
    return o.event === 'role' && typeof o.role === 'string' && ROLES.has(o.role as Role) ? (o.role as Role) : undefined
  } catch {
    return undefined
  }
}

function lastWords(r: LocalReplica): string {
  const lines = r.tail.filter(l => /error|fail|exit|crash/i.test(l)).slice(-2)
  return (lines.length ? lines : r.tail.slice(-2)).join(' | ').slice(0, 400) || 'no output'
}

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(s => s.end())
    server.once('error', reject)
    server.listen(0, host, () => resolve(server))
  })
}
