import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {skipWithoutEtcd, startEtcd, startEtcdCluster, type EtcdCluster} from '../../../harness/etcd.js'
import {etcdLeaseBackend} from '../../../src/agent/lease/backends/etcd.js'
import {EtcdLeaseStore} from '../../../src/agent/lease/etcd.js'
import type {LeaseRecord} from '../../../src/agent/lease/machine.js'
import {freePorts} from '../../../src/net/free-port.js'
import {which} from '../../../src/drill/tools.js'

// The etcd lease with etcd's security on, on REAL etcd members (Debian's etcd-server 3.4): TLS with client
// certificates (a CA, a server and a client certificate made here with openssl), and etcd's own users
// (auth enabled, a simple token that expires after 1 s idle, so the store must log in again). Without etcd
// (or openssl) this file says loudly what did not run (and fails under CI=true or FF_HA_REQUIRE_ETCD=1).
const skip = skipWithoutEtcd('test/integration/lease/etcd-secure.test.ts (the etcd lease over TLS and with etcd auth)')
if (!skip && !which('openssl')) throw new Error('openssl is not on PATH: the TLS test makes its certificates with it (apt-get install openssl)')

const record = (holder: string | null, transitions: number): LeaseRecord => ({holder, leaseDurationMs: 2000, acquireTime: Date.now(), renewTime: Date.now(), transitions})

function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: 'pipe'})
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ff-ha test CA')
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']]) {
    writeFileSync(join(dir, `${name}.ext`), ext)
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=ff-ha-${name}`)
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`)
  }
}

describe.skipIf(skip)('etcd lease over TLS with client certificates (real etcd)', () => {
  let dir: string
  let etcd: EtcdCluster
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-etcd-tls-'))
    makeCertificates(dir)
    const [client, peer] = await freePorts(2)
    etcd = await startEtcdCluster(
      [{name: 'tls0', clientUrl: `https://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`, dataDir: join(dir, 'data')}],
      {
        extraArgs: ['--cert-file', join(dir, 'server.crt'), '--key-file', join(dir, 'server.key'), '--trusted-ca-file', join(dir, 'ca.crt'), '--client-cert-auth'],
        clientTls: {ca: readFileSync(join(dir, 'ca.crt')), cert: readFileSync(join(dir, 'client.crt')), key: readFileSync(join(dir, 'client.key'))},
        removeOnDestroy: [dir],
      },
    )
  }, 60_000)
  afterAll(async () => {
    await etcd?.destroy()
  })

  it('with the CA and a client certificate the store reads and writes; without the client certificate or the CA it cannot, and says why in one line', async () => {
    const base = {prefix: '/tls/', name: 'flows-leader', attemptTimeoutMs: 1000, operationTimeoutMs: 3000}
    const good = new EtcdLeaseStore({...base, endpoints: etcd.endpoints, tls: {caFile: join(dir, 'ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key')}})
    const v = await good.write(record('a', 1), null)
    expect(v).not.toBeNull()
    expect((await good.read()).record).toMatchObject({holder: 'a', transitions: 1})
    await good.close()

    for (const tls of [{caFile: join(dir, 'ca.crt')}, {}]) {
      const bad = new EtcdLeaseStore({...base, endpoints: etcd.endpoints, tls})
      const err = await bad.read().then(() => null, (e: Error) => e)
      await bad.close()
      expect(err?.message).toMatch(new RegExp(`^etcd unreachable: ${etcd.endpoints[0].replace(/[.:/]/g, '\\$&')} \\(.+\\)$`))
      expect(err?.message).not.toContain('\n')
    }
  }, 30_000)

  it('a TLS file that cannot be read: InputError naming the profile field and the path', () => {
    expect(() => new EtcdLeaseStore({prefix: '/x/', name: 'n', attemptTimeoutMs: 100, operationTimeoutMs: 200, endpoints: etcd.endpoints, tls: {caFile: join(dir, 'missing.crt')}})).toThrow(
      `failover.etcd.tls.caFile ${join(dir, 'missing.crt')}: cannot read it (ENOENT)`,
    )
  })
})

describe.skipIf(skip)('etcd lease with etcd auth on (real etcd)', () => {
  let etcd: EtcdCluster
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await request(`${etcd.endpoints[0]}${path}`, {method: 'POST', body: JSON.stringify(body), headers: token ? {authorization: token} : {}})
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  beforeAll(async () => {
    // Simple tokens expire after 1 s without use: the store must log in again, by itself.
    etcd = await startEtcd(1, {extraArgs: ['--auth-token-ttl', '1']})
    await post('/v3/auth/role/add', {name: 'root'})
    await post('/v3/auth/user/add', {name: 'root', password: 'r00t-pass-word'})
    await post('/v3/auth/user/grant', {user: 'root', role: 'root'})
    await post('/v3/auth/enable', {})
  }, 60_000)
  afterAll(async () => {
    await etcd?.destroy()
  })

  it('logs in with the user and password from the named variables, and again after its token expired', async () => {
    const s = new EtcdLeaseStore({endpoints: etcd.endpoints, prefix: '/auth/', name: 'flows-leader', attemptTimeoutMs: 1000, operationTimeoutMs: 3000, auth: {username: 'root', password: 'r00t-pass-word'}})
    const v1 = (await s.write(record('a', 1), null))!
    expect(v1).not.toBeNull()
    await new Promise(resolve => setTimeout(resolve, 2500))
    // Idle for longer than the token (1 s) and the etcd lease (2 s): the read logs in again, and sees the key
    // gone with the lease and the token kept; the next tenure's write (token 2) succeeds.
    const seen = await s.read()
    expect(seen).toMatchObject({record: {holder: null, transitions: 1}, version: expect.stringMatching(/^f\d+$/)})
    expect(await s.write(record('a', 2), seen.version)).not.toBeNull()
    expect((await s.read()).record).toMatchObject({holder: 'a', transitions: 2})
    await s.close()
  }, 30_000)

  it('no credentials or a wrong password: the agent\'s open fails in one line, exit 1, and never shows the password', async () => {
    const profile = {failover: {etcd: {endpoints: etcd.endpoints, prefix: '/auth/', usernameEnv: 'ETCD_USERNAME', passwordEnv: 'ETCD_PASSWORD'}, renewDeadlineMs: 1500}} as never
    const options = etcdLeaseBackend.options({profile, env: {ETCD_USERNAME: 'root', ETCD_PASSWORD: 'wrong-pass-word'}, cwd: '/'})
    const err = await etcdLeaseBackend.open({...options, name: 'flows-leader', namespace: 'default'}, 'a').then(() => null, (e: Error & {exitCode?: number; hint?: string}) => e)
    expect(err?.exitCode).toBe(1)
    expect(err?.message).toMatch(/^a: cannot reach the etcd lease at http:\/\/127\.0\.0\.1:\d+: etcd http:\/\/127\.0\.0\.1:\d+: etcdserver: authentication failed, invalid user ID or password \(HTTP 400\)$/)
    expect(`${err?.message} ${err?.hint}`).not.toContain('wrong-pass-word')

    const anonymous = new EtcdLeaseStore({endpoints: etcd.endpoints, prefix: '/auth/', name: 'flows-leader', attemptTimeoutMs: 1000, operationTimeoutMs: 3000})
    const denied = await anonymous.read().then(() => null, (e: Error) => e)
    await anonymous.close()
    expect(denied?.message).toMatch(/user name is empty|permission denied|invalid auth token/)
  }, 30_000)
})
