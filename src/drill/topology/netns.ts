import {RemoteError} from '../../errors.js'
import {runCommand} from '../../process/run.js'

// Network namespaces for the partition drill: each replica in its own namespace, joined to a bridge in
// the root namespace by a veth pair. Cutting a replica off is `ip link set <its veth> down`; healing is
// `up`. Needs root (CAP_NET_ADMIN) and iproute2.

export interface NetnsReplica {
  namespace: string
  /** The root-side end of its veth pair: what the partition takes down. */
  hostVeth: string
  address: string
}

export interface NetnsNetwork {
  bridge: string
  /** The bridge's address: where the replicas reach the broker and the witness. */
  gateway: string
  replicas: NetnsReplica[]
  /** Prefix for running a program inside a replica's namespace. */
  exec(namespace: string): string[]
  cut(r: NetnsReplica): Promise<void>
  heal(r: NetnsReplica): Promise<void>
  destroy(): Promise<void>
}

/** Why the partition drill cannot run here, or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root for ip netns (run as root, or in CI as root)'
  return undefined
}

async function ip(args: string[]): Promise<void> {
  const r = await runCommand('ip', args, {timeoutMs: 10_000})
  if (r.ok) return
  if (r.code === 'ENOENT') throw new RemoteError('`ip` (iproute2) is not on PATH: the partition drill needs it', {hint: 'apt-get install iproute2'})
  throw new RemoteError(`ip ${args.join(' ')} failed: ${r.why}`)
}

/**
 * forward: the namespaces talk to each other across the bridge (the hosts target's etcd members), not only
 * to the root namespace. Where br_netfilter passes bridged frames through iptables and the FORWARD policy
 * is DROP (a Docker engine sets both), that traffic is dropped: an ACCEPT rule for this bridge, as Docker
 * adds for its own, removed with the bridge.
 */
export async function createNetns(count: number, options: {forward?: boolean} = {}): Promise<NetnsNetwork> {
  const id = (process.pid % 46656).toString(36).padStart(3, '0') + Math.floor(Math.random() * 36 ** 2).toString(36).padStart(2, '0')
  const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250) + 1}`
  const bridge = `ffb${id}`
  const gateway = `${subnet}.1`
  const replicas: NetnsReplica[] = []
  const created: (() => Promise<void>)[] = []
  const destroy = async () => {
    for (const undo of created.reverse()) await undo().catch(() => {})
    created.length = 0
  }
  try {
    await ip(['link', 'add', bridge, 'type', 'bridge'])
    created.push(() => ip(['link', 'del', bridge]))
    await ip(['addr', 'add', `${gateway}/24`, 'dev', bridge])
    await ip(['link', 'set', bridge, 'up'])
    if (options.forward) {
      const rule = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT']
      const added = await runCommand('iptables', ['-I', ...rule], {timeoutMs: 10_000})
      // no iptables: nothing filters bridged frames through it either
      if (added.ok) created.push(async () => void (await runCommand('iptables', ['-D', ...rule], {timeoutMs: 10_000})))
      else if (added.code !== 'ENOENT') throw new RemoteError(`iptables -I ${rule.join(' ')} failed: ${added.why}`, {hint: 'the hosts must reach each other across the bridge'})
    }
    for (let i = 0; i < count; i++) {
      const namespace = `ffha-${id}-${i}`
      const hostVeth = `ffv${id}${i}`
      const peer = `ffp${id}${i}`
      const address = `${subnet}.${10 + i}`
      await ip(['netns', 'add', namespace])
      created.push(() => ip(['netns', 'del', namespace]))
      await ip(['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peer])
      created.push(() => ip(['link', 'del', hostVeth]))
      await ip(['link', 'set', peer, 'netns', namespace])
      await ip(['link', 'set', hostVeth, 'master', bridge])
      await ip(['link', 'set', hostVeth, 'up'])
      await ip(['netns', 'exec', namespace, 'ip', 'addr', 'add', `${address}/24`, 'dev', peer])
      await ip(['netns', 'exec', namespace, 'ip', 'link', 'set', peer, 'up'])
      await ip(['netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up'])
      replicas.push({namespace, hostVeth, address})
    }
  } catch (err) {
    await destroy()
    throw err
  }
  return {
    bridge,
    gateway,
    replicas,
    exec: namespace => ['ip', 'netns', 'exec', namespace],
    cut: r => ip(['link', 'set', r.hostVeth, 'down']),
    heal: r => ip(['link', 'set', r.hostVeth, 'up']),
    destroy,
  }
}
