// Real etcd members for tests, drills and benches: one member on loopback (startEtcd), or an N-member cluster
// from a list of members (startEtcdCluster), each optionally run under an exec prefix such as
// ['ip', 'netns', 'exec', ns] so that a drill can put every member in a network namespace of its own.
// Wait for health, stop / kill / pause / restart one member, find the leader, destroy everything. Uses Debian's
// etcd-server (3.4) at /usr/bin/etcd, or whatever `etcd` is on PATH (FF_HA_ETCD_BIN overrides).
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Agent, request, type Dispatcher} from 'undici'
import {which} from '../src/drill/tools.js'
import {freePorts} from '../src/net/free-port.js'

export const HOW_TO_GET_ETCD = 'apt-get install etcd-server (Debian 12 ships etcd 3.4; the binary is /usr/bin/etcd), or set FF_HA_ETCD_BIN'

/** The etcd binary, or undefined when there is none. */
export function etcdBinary(): string | undefined {
  return process.env.FF_HA_ETCD_BIN || which('etcd')
}

/** Why etcd tests cannot run here (undefined: they can). */
export function etcdUnavailable(): string | undefined {
  return etcdBinary() ? undefined : 'etcd is not installed (no `etcd` on PATH)'
}

/**
 * Say loudly that an etcd test file did not run; under CI=true or FF_HA_REQUIRE_ETCD=1 throw instead, so a
 * missing etcd fails the run. Returns true when the file must skip.
 */
export function skipWithoutEtcd(what: string): boolean {
  const why = etcdUnavailable()
  if (!why) return false
  const line = `NOT RUN: ${what}: ${why}. To run it: ${HOW_TO_GET_ETCD}`
  if (process.env.CI === 'true' || process.env.FF_HA_REQUIRE_ETCD === '1') throw new Error(line)
  console.warn(`\n${'!'.repeat(100)}\n${line}\n${'!'.repeat(100)}\n`)
  return true
}

export interface EtcdMemberSpec {
  name: string
  /** Where it serves clients, e.g. http://127.0.0.1:2379 (also what it advertises). */
  clientUrl: string
  /** Where it talks to its peers, e.g. http://127.0.0.1:2380. */
  peerUrl: string
  dataDir: string
  /** Run it under this command, e.g. ['ip', 'netns', 'exec', 'ffha-h1']. The prefix must exec etcd (so its pid is etcd's). */
  execPrefix?: string[]
}

export interface EtcdClusterOptions {
  /** Raft heartbeat and election timeout, ms (etcd's defaults: 100 and 1000). */
  heartbeatMs?: number
  electionMs?: number
  /** initial-cluster-token (default: a fresh one per cluster, so that clusters never mix). */
  token?: string
  /** How long to wait for the cluster to become healthy (default 30 s). */
  healthTimeoutMs?: number
  /** Extra etcd flags for every member. */
  extraArgs?: string[]
  /** Directories destroy() removes (the data dirs' parent, when the caller made it for this cluster only). */
  removeOnDestroy?: string[]
  /** TLS for the harness's own calls (health, leader) when the client URLs are https: CA, client cert and key (PEM). */
  clientTls?: {ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer}
}

export interface EtcdMember extends EtcdMemberSpec {
  /** The running process (null while stopped or killed). */
  readonly process: ChildProcess | null
  readonly running: boolean
  /** The last lines etcd wrote to stderr (for failure messages). */
  log(): string
}

export interface EtcdCluster {
  members: EtcdMember[]
  /** Every member's client URL, in member order. */
  endpoints: string[]
  member(name: string): EtcdMember
  /** Wait until every running member answers /health with true (or `names` only). */
  waitHealthy(names?: string[], timeoutMs?: number): Promise<void>
  /** SIGTERM one member and wait for it to exit. */
  stop(name: string): Promise<void>
  /** SIGKILL one member (no grace) and wait for it to exit. */
  kill(name: string): Promise<void>
  /** SIGSTOP / SIGCONT one member (a freeze: it holds its sockets but answers nothing). */
  pause(name: string): void
  resume(name: string): void
  /** Start a stopped or killed member again from its data dir; waits for it to be healthy. */
  start(name: string): Promise<void>
  /** The name of the current leader as the running members report it (/v3/maintenance/status); null if none answers one. */
  leader(timeoutMs?: number): Promise<string | null>
  /** Kill every member and remove the data dirs this harness created. */
  destroy(): Promise<void>
}

interface EtcdStatus {
  header?: {member_id?: string}
  leader?: string
}

async function postJson(url: string, body: unknown, timeoutMs: number, dispatcher?: Dispatcher): Promise<unknown> {
  const res = await request(url, {method: 'POST', body: JSON.stringify(body), headers: {'content-type': 'application/json'}, signal: AbortSignal.timeout(timeoutMs), dispatcher})
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`)
  return JSON.parse(text)
}

/** True when the member at clientUrl says it is healthy (it has a leader and can serve a linearizable read). */
export async function etcdHealthy(clientUrl: string, timeoutMs = 1000, dispatcher?: Dispatcher): Promise<boolean> {
  try {
    const res = await request(`${clientUrl}/health`, {signal: AbortSignal.timeout(timeoutMs), dispatcher})
    const body = (await res.body.json()) as {health?: string}
    return res.statusCode === 200 && body.health === 'true'
  } catch {
    return false
  }
}

/** Start the members as one new cluster and wait until all are healthy. */
export async function startEtcdCluster(specs: EtcdMemberSpec[], options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const bin = etcdBinary()
  if (!bin) throw new Error(`etcd is not installed: ${HOW_TO_GET_ETCD}`)
  const token = options.token ?? `ff-ha-${process.pid}-${Date.now().toString(36)}`
  const initialCluster = specs.map(s => `${s.name}=${s.peerUrl}`).join(',')
  const dispatcher = options.clientTls ? new Agent({connect: options.clientTls}) : undefined
  type State = {spec: EtcdMemberSpec; child: ChildProcess | null; stderr: string; exited: Promise<void> | null}
  const states = new Map<string, State>(specs.map(s => [s.name, {spec: s, child: null, stderr: '', exited: null}]))

  const launch = (st: State) => {
    const s = st.spec
    mkdirSync(s.dataDir, {recursive: true})
    const args = [
      '--name', s.name,
      '--data-dir', s.dataDir,
      '--listen-client-urls', s.clientUrl,
      '--advertise-client-urls', s.clientUrl,
      '--listen-peer-urls', s.peerUrl,
      '--initial-advertise-peer-urls', s.peerUrl,
      '--initial-cluster', initialCluster,
      // Ignored once the data dir holds a member: a restart rejoins the same cluster.
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
      '--heartbeat-interval', String(options.heartbeatMs ?? 100),
      '--election-timeout', String(options.electionMs ?? 1000),
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
      ...(options.extraArgs ?? []),
    ]
    const [cmd, ...rest] = [...(s.execPrefix ?? []), bin, ...args]
    // Its own process group, so that a prefix that forks (rather than execs) is killed with it.
    const child = spawn(cmd, rest, {stdio: ['ignore', 'ignore', 'pipe'], detached: true})
    st.child = child
    st.exited = new Promise(resolve => child.once('exit', () => resolve()))
    child.stderr!.on('data', d => (st.stderr = (st.stderr + String(d)).slice(-4000)))
  }
  const signal = (st: State, sig: NodeJS.Signals) => {
    const pid = st.child?.pid
    if (!pid || st.child!.exitCode !== null || st.child!.signalCode !== null) return false
    try {
      process.kill(-pid, sig)
    } catch {
      try {
        st.child!.kill(sig)
      } catch {
        // already gone
      }
    }
    return true
  }
  const get = (name: string) => {
    const st = states.get(name)
    if (!st) throw new Error(`no etcd member named ${name} (members: ${[...states.keys()].join(', ')})`)
    return st
  }
  const isRunning = (st: State) => st.child !== null && st.child.exitCode === null && st.child.signalCode === null
  const end = async (st: State, sig: NodeJS.Signals) => {
    if (signal(st, sig)) {
      const late = setTimeout(() => signal(st, 'SIGKILL'), 10_000)
      await st.exited
      clearTimeout(late)
    }
    st.child = null
  }

  const waitHealthy = async (names?: string[], timeoutMs = options.healthTimeoutMs ?? 30_000) => {
    const wanted = (names ?? [...states.keys()]).map(get).filter(isRunning)
    const deadline = Date.now() + timeoutMs
    const pending = new Set(wanted)
    while (pending.size) {
      for (const st of [...pending]) {
        if (!isRunning(st)) throw new Error(`etcd member ${st.spec.name} exited: ${st.stderr.trim().split('\n').slice(-5).join('\n')}`)
        if (await etcdHealthy(st.spec.clientUrl, 1000, dispatcher)) pending.delete(st)
      }
      if (!pending.size) break
      if (Date.now() > deadline) {
        throw new Error(`etcd members not healthy after ${timeoutMs} ms: ${[...pending].map(st => `${st.spec.name} (${st.spec.clientUrl}): ${st.stderr.trim().split('\n').slice(-3).join(' | ')}`).join('; ')}`)
      }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  const members: EtcdMember[] = specs.map(s => {
    const st = states.get(s.name)!
    return {
      ...s,
      get process() {
        return st.child
      },
      get running() {
        return isRunning(st)
      },
      log: () => st.stderr,
    }
  })

  const cluster: EtcdCluster = {
    members,
    endpoints: specs.map(s => s.clientUrl),
    member: name => members[specs.indexOf(get(name).spec)],
    waitHealthy,
    stop: name => end(get(name), 'SIGTERM'),
    kill: name => end(get(name), 'SIGKILL'),
    pause: name => void signal(get(name), 'SIGSTOP'),
    resume: name => void signal(get(name), 'SIGCONT'),
    async start(name) {
      const st = get(name)
      if (isRunning(st)) return
      launch(st)
      await waitHealthy([name])
    },
    async leader(timeoutMs = 1000) {
      // member_id and leader are uint64s, which the JSON gateway sends as decimal strings.
      const ids = new Map<string, string>()
      let leaderId: string | undefined
      await Promise.all(
        [...states.values()].filter(isRunning).map(async st => {
          try {
            const status = (await postJson(`${st.spec.clientUrl}/v3/maintenance/status`, {}, timeoutMs, dispatcher)) as EtcdStatus
            ids.set(String(status.header?.member_id), st.spec.name)
            if (status.leader && status.leader !== '0') leaderId ??= String(status.leader)
          } catch {
            // not answering: not the one to ask
          }
        }),
      )
      return leaderId ? (ids.get(leaderId) ?? null) : null
    },
    async destroy() {
      for (const st of states.values()) signal(st, 'SIGCONT')
      await Promise.all([...states.values()].map(st => end(st, 'SIGKILL')))
      for (const dir of options.removeOnDestroy ?? []) rmSync(dir, {recursive: true, force: true})
      await dispatcher?.close()
    },
  }

  for (const st of states.values()) launch(st)
  try {
    await waitHealthy()
  } catch (err) {
    await cluster.destroy()
    throw err
  }
  return cluster
}

/**
 * N members on loopback (free ports, data dirs in a fresh temp dir, removed by destroy()). n = 1 gives the
 * single member the conformance suite and the agent tests use.
 */
export async function startEtcd(n = 1, options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  // tmpfs when there is one: fsync on a loaded disk stalls a single member for hundreds of ms.
  const base = process.env.FF_HA_ETCD_TMP ?? (isDir('/dev/shm') ? '/dev/shm' : tmpdir())
  const root = mkdtempSync(join(base, 'ff-ha-etcd-'))
  const ports = await freePorts(2 * n)
  const specs = Array.from({length: n}, (_, i) => ({
    name: `etcd${i}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: join(root, `etcd${i}`),
  }))
  try {
    return await startEtcdCluster(specs, {...options, removeOnDestroy: [...(options.removeOnDestroy ?? []), root]})
  } catch (err) {
    rmSync(root, {recursive: true, force: true})
    throw err
  }
}

function isDir(path: string): boolean {
  try {
    mkdirSync(path, {recursive: true})
    return true
  } catch {
    return false
  }
}
