import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {etcdHealthy, skipWithoutEtcd, startEtcd, startEtcdCluster, type EtcdCluster} from '../../../harness/etcd.js'
import {freePorts} from '../../../src/net/free-port.js'

// harness/etcd.ts on a REAL etcd (Debian's etcd-server 3.4): a 3-member cluster on loopback, its leader found,
// killed and replaced, the member started again from its data dir, everything removed at the end; and a member
// run under an exec prefix, as the etcd drill runs each one in a network namespace. The etcd
// drill and the lease tests build on this harness. Without etcd this file says loudly what did not run (and
// fails under CI=true or FF_HA_REQUIRE_ETCD=1).
const skip = skipWithoutEtcd('test/integration/etcd/harness.test.ts (a real 3-member etcd cluster)')

describe.skipIf(skip)('harness/etcd.ts: a real 3-member etcd cluster', () => {
  let cluster: EtcdCluster | undefined
  afterAll(async () => {
    await cluster?.destroy()
  })

  it('starts healthy with one leader; a killed leader is replaced, and a restarted member rejoins; destroy removes the data', async () => {
    cluster = await startEtcd(3)
    expect(cluster.endpoints).toHaveLength(3)
    for (const url of cluster.endpoints) expect(await etcdHealthy(url)).toBe(true)
    const first = await cluster.leader()
    expect(cluster.members.map(m => m.name)).toContain(first)

    await cluster.kill(first!)
    expect(cluster.member(first!).running).toBe(false)
    expect(await etcdHealthy(cluster.member(first!).clientUrl, 300)).toBe(false)
    let next: string | null = null
    const deadline = Date.now() + 20_000
    while (!next && Date.now() < deadline) {
      next = await cluster.leader()
      if (!next) await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(next).not.toBeNull()
    expect(next).not.toBe(first)

    await cluster.start(first!)
    expect(cluster.member(first!).running).toBe(true)
    await cluster.waitHealthy()
    const dataDir = cluster.member(first!).dataDir
    expect(existsSync(dataDir)).toBe(true)
    await cluster.destroy()
    expect(cluster.members.every(m => !m.running)).toBe(true)
    expect(existsSync(dataDir)).toBe(false)
    cluster = undefined
  }, 90_000)

  it('runs a member under an exec prefix (here `env`, which execs etcd as `ip netns exec` does): its pid is etcd\'s, and kill stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-etcd-prefix-'))
    const [client, peer] = await freePorts(2)
    cluster = await startEtcdCluster([{name: 'p0', clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`, dataDir: join(dir, 'p0'), execPrefix: ['env', 'ETCD_UNSUPPORTED_ARCH=']}], {removeOnDestroy: [dir]})
    expect(await cluster.leader()).toBe('p0')
    const pid = cluster.member('p0').process!.pid!
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('etcd')
    await cluster.kill('p0')
    expect(await etcdHealthy(cluster.endpoints[0], 300)).toBe(false)
    await cluster.destroy()
    expect(existsSync(dir)).toBe(false)
    cluster = undefined
  }, 60_000)
})
