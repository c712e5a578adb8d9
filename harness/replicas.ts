// Start N real Node-RED replicas for tests and benches: free ports, temporary userDirs, the settings that
// renderSettings() makes, adminAuth on (one shared token), flows stopped at boot. Everything started here
// is stopped and removed by stop(). Small and stable: other areas import it.
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AdminClient} from '../src/admin/client.js'
import type {ReplicaTarget} from '../src/admin/types.js'
import {freePorts} from '../src/net/free-port.js'
import {launchNodeRed, type LaunchedNodeRed} from '../src/nodered/launch.js'
import type {NodeRedMajor} from '../src/nodered/runtime.js'

export interface TestReplica extends ReplicaTarget {
  port: number
  userDir: string
  /** An admin client with the shared token (reads retried twice). */
  client: AdminClient
  node: LaunchedNodeRed
}

export interface TestCluster {
  replicas: TestReplica[]
  /** The shared admin token every replica accepts. */
  token: string
  credentialSecret: string
  major: NodeRedMajor
  targets(): ReplicaTarget[]
  /** SIGKILL replica i (no grace). */
  kill(i: number): Promise<void>
  /** Stop replica i (if running) and boot it again from the same userDir and port. */
  restart(i: number, options?: {args?: string[]; bootStopped?: boolean}): Promise<void>
  /** Stop every replica and remove every userDir. */
  stop(): Promise<void>
}

export interface StartReplicasOptions {
  major?: NodeRedMajor
  /** Name prefix: replicas are <prefix>-0, <prefix>-1, ... (default "nr"). */
  prefix?: string
  /** Extra red.js arguments, e.g. ['--safe']. */
  args?: string[]
  /** Extra environment for Node-RED (e.g. FF_HA_ADMIN_USER + FF_HA_ADMIN_PASSWORD_HASH for logins). */
  env?: Record<string, string>
  timeoutMs?: number
}

export async function startReplicas(n: number, options: StartReplicasOptions = {}): Promise<TestCluster> {
  const major = options.major ?? 4
  const token = 'test-token-' + randomBytes(12).toString('hex')
  const credentialSecret = 'test-secret-' + randomBytes(12).toString('hex')
  const root = mkdtempSync(join(tmpdir(), 'ff-ha-replicas-'))
  const ports = await freePorts(n)
  const env = {FF_HA_ADMIN_TOKEN: token, FF_HA_CREDENTIAL_SECRET: credentialSecret, FF_HA_NODE_RED_LOG_LEVEL: 'warn', ...options.env}
  const prefix = options.prefix ?? 'nr'

  const boot = (i: number, args = options.args, bootStopped = true) =>
    launchNodeRed({
      userDir: join(root, `${prefix}-${i}`),
      port: ports[i],
      env,
      major,
      args,
      bootStopped,
      auth: {token},
      name: `${prefix}-${i}`,
      timeoutMs: options.timeoutMs ?? 45_000,
    })

  const replicas: TestReplica[] = []
  const settled = await Promise.allSettled(ports.map((_, i) => boot(i)))
  for (const [i, s] of settled.entries()) {
    if (s.status === 'fulfilled') replicas[i] = describe(i, s.value)
  }
  function describe(i: number, node: LaunchedNodeRed): TestReplica {
    // Our own client, with retries for reads: the launch client has none, and a test's read that meets a
    // keep-alive socket the server just closed should not fail the test.
    void node.client.close()
    const client = new AdminClient({name: `${prefix}-${i}`, url: node.url}, {auth: {token}, retries: 2})
    return {name: `${prefix}-${i}`, url: node.url, port: ports[i], userDir: join(root, `${prefix}-${i}`), client, node}
  }

  const cluster: TestCluster = {
    replicas,
    token,
    credentialSecret,
    major,
    targets: () => replicas.map(r => ({name: r.name, url: r.url})),
    async kill(i) {
      const child = replicas[i].node.child
      if (child.exitCode !== null || child.signalCode !== null) return
      await new Promise<void>(resolve => {
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      })
    },
    async restart(i, restartOptions = {}) {
      await replicas[i].node.stop()
      await replicas[i].client.close()
      replicas[i] = describe(i, await boot(i, restartOptions.args ?? options.args, restartOptions.bootStopped ?? true))
    },
    async stop() {
      await Promise.all(replicas.filter(Boolean).map(async r => {
        await r.node.stop(3000)
        await r.client.close()
      }))
      rmSync(root, {recursive: true, force: true})
    },
  }
  const failed = settled.find(s => s.status === 'rejected') as PromiseRejectedResult | undefined
  if (failed) {
    await cluster.stop()
    throw failed.reason
  }
  return cluster
}
