import type {ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {request} from 'undici'
import {RemoteError} from '../../errors.js'
import {pollUntil} from '../../io/poll.js'
import {sendSignal, stopProcess, waitForExit} from '../../process/run.js'
import type {Resources} from '../processes.js'
import {which} from '../tools.js'

// The hosts target's etcd cluster: one member per host, each started inside its host's network namespace
// (`ip netns exec NS etcd ...`), so that cutting a host's link cuts its member off too. The drill reads
// the members over the bridge with etcd's v3 JSON gateway (health, who leads) and breaks them with signals:
// kill one (the leader), stop them all for a while (the cluster unreachable), start one again.
//
// Raft settings, as the layout for the etcd lease needs them (docs/design/multi-host.md):
// - election timeout 500 ms, heartbeat 50 ms: an election after a leader's loss then takes ~0.5-1 s, inside
//   the lease's renew deadline (1.5 s): with etcd's default of 1 s the holder missed it and was fenced;
// - --pre-vote (etcd 3.4's default is off; 3.5's on): a member that was cut off has raised its term alone,
//   and without a pre-vote it deposes the leader when it comes back: writes stall for an election, and the
//   holder, renewing through that stall, was fenced before the fault the next iteration meant to apply.
export const ETCD_HEARTBEAT_MS = 50
export const ETCD_ELECTION_MS = 500

export const ETCD_CLIENT_PORT = 2379
export const ETCD_PEER_PORT = 2380

export interface EtcdMemberSpec {
  name: string
  /** The host's address (in its namespace): the member listens there. */
  address: string
  dataDir: string
  /** Prefix to run it inside its host, e.g. ['ip', 'netns', 'exec', NS]. */
  exec: string[]
}

export interface EtcdMember extends EtcdMemberSpec {
  clientUrl: string
  peerUrl: string
  child?: ChildProcess
  tail: string[]
}

export interface EtcdCluster {
  members: EtcdMember[]
  /** The client URLs, in member order: what the agents' profile lists. */
  endpoints: string[]
  /** The member that leads now (asked of every reachable member; a majority must agree). */
  leader(): Promise<EtcdMember>
  kill(member: EtcdMember): Promise<void>
  /** Start a killed member again (same data dir: it rejoins) and wait until the cluster is healthy. */
  restart(member: EtcdMember): Promise<void>
  /** SIGSTOP / SIGCONT every member: the whole cluster stops answering, then comes back. */
  pause(): void
  resume(): void
  /** Until every member answers /health with true. */
  waitHealthy(timeoutMs?: number): Promise<void>
}

/** Why the hosts target cannot start etcd here, or undefined. */
export function etcdUnavailable(): string | undefined {
  return which('etcd') ? undefined : 'etcd is not on PATH (Debian: apt-get install etcd-server)'
}

export async function startEtcdCluster(specs: EtcdMemberSpec[], resources: Resources, token: string): Promise<EtcdCluster> {
  const etcd = which('etcd')
  if (!etcd) throw new RemoteError('etcd is not on PATH: the hosts target runs a 3-member etcd cluster', {hint: 'apt-get install etcd-server'})
  const members: EtcdMember[] = specs.map(s => ({...s, clientUrl: `http://${s.address}:${ETCD_CLIENT_PORT}`, peerUrl: `http://${s.address}:${ETCD_PEER_PORT}`, tail: []}))
  const initialCluster = members.map(m => `${m.name}=${m.peerUrl}`).join(',')
  const spawnMember = (m: EtcdMember) => {
    mkdirSync(m.dataDir, {recursive: true})
    // with a data dir from an earlier start the member rejoins and ignores the initial-cluster flags
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
      '--heartbeat-interval', String(ETCD_HEARTBEAT_MS),
      '--election-timeout', String(ETCD_ELECTION_MS),
      '--pre-vote',
      '--log-level', 'warn',
      '--logger', 'zap',
    ]
    const [command, ...prefix] = [...m.exec, etcd]
    const child = resources.spawn(command, [...prefix, ...args], {stderr: 'pipe'})
    m.child = child
    m.tail = []
    child.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        m.tail.push(line)
        if (m.tail.length > 20) m.tail.shift()
      }
    })
  }
  for (const m of members) spawnMember(m)

  const cluster: EtcdCluster = {
    members,
    endpoints: members.map(m => m.clientUrl),
    async leader() {
      return pollUntil(
        async () => {
          const seen = await Promise.all(members.map(async m => ({m, s: await status(m)})))
          const ids = new Map(seen.filter(x => x.s).map(x => [x.s!.memberId, x.m]))
          const votes = seen.map(x => x.s?.leader).filter((l): l is string => Boolean(l) && l !== '0')
          const leaderId = votes.find(l => votes.filter(v => v === l).length * 2 > members.length)
          return leaderId ? ids.get(leaderId) : undefined
        },
        {timeoutMs: 15_000, intervalMs: 100, what: 'an etcd leader agreed by a majority of the members'},
      )
    },
    async kill(m) {
      if (!m.child?.pid) return
      sendSignal(m.child.pid, 'SIGKILL', {group: true})
      await waitForExit(m.child, 5000)
    },
    async restart(m) {
      if (m.child) await stopProcess(m.child, {graceMs: 1000})
      spawnMember(m)
      await cluster.waitHealthy()
    },
    pause() {
      for (const m of members) if (m.child?.pid) sendSignal(m.child.pid, 'SIGSTOP', {group: true})
    },
    resume() {
      for (const m of members) if (m.child?.pid) sendSignal(m.child.pid, 'SIGCONT', {group: true})
    },
    async waitHealthy(timeoutMs = 60_000) {
      let last = ''
      await pollUntil(
        async () => {
          const answers = await Promise.all(members.map(async m => [m, await healthy(m)] as const))
          for (const [m] of answers) if (m.child && m.child.exitCode !== null) throw new RemoteError(`etcd member ${m.name} exited with code ${m.child.exitCode}: ${m.tail.slice(-2).join(' | ') || 'no output'}`)
          last = answers.map(([m, ok]) => `${m.name} ${ok ? 'healthy' : `not healthy${m.tail.length ? ` (${m.tail[m.tail.length - 1].slice(0, 160)})` : ''}`}`).join(', ')
          return answers.every(([, ok]) => ok)
        },
        {timeoutMs, intervalMs: 100, what: 'the etcd cluster healthy (every member)', detail: () => last},
      )
    },
  }
  await cluster.waitHealthy()
  return cluster
}

async function healthy(m: EtcdMember): Promise<boolean> {
  try {
    const res = await request(`${m.clientUrl}/health`, {headersTimeout: 1000, bodyTimeout: 1000})
    const body = (await res.body.json()) as {health?: unknown}
    return res.statusCode === 200 && (body.health === 'true' || body.health === true)
  } catch {
    return false
  }
}

/** The member's own id and the leader it follows (the gateway sends uint64s as strings). */
async function status(m: EtcdMember): Promise<{memberId: string; leader: string} | undefined> {
  try {
    const res = await request(`${m.clientUrl}/v3/maintenance/status`, {method: 'POST', body: '{}', headersTimeout: 1000, bodyTimeout: 1000})
    if (res.statusCode !== 200) {
      await res.body.dump()
      return undefined
    }
    const body = (await res.body.json()) as {header?: {member_id?: string}; leader?: string}
    return body.header?.member_id && body.leader ? {memberId: String(body.header.member_id), leader: String(body.leader)} : undefined
  } catch {
    return undefined
  }
}

export function etcdDataDir(dir: string, name: string): string {
  return join(dir, 'etcd', name)
}
