// Discovery runs the real docker / kubectl command lines through execa. No Docker engine or Kubernetes
// cluster runs here, so these tests put FAKE `docker` and `kubectl` executables (test/fixtures/deploy/fake-bin)
// first on PATH: they record the argv that ff-ha runs and answer with canned JSON.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {discoverReplicas} from '../../../src/deploy/discovery/index.js'
import {parseTarget} from '../../../src/deploy/discovery/targets.js'
import {composeCommand, explainToolFailure} from '../../../src/deploy/discovery/tool.js'
import {InputError, RemoteError} from '../../../src/errors.js'
import {parseProfileText} from '../../../src/profile/load.js'

const fakeBin = join(import.meta.dirname, '../../fixtures/deploy/fake-bin')
let dir: string
let log: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-discovery-'))
  log = join(dir, 'argv.log')
  writeFileSync(log, '')
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {PATH: `${fakeBin}:${process.env.PATH}`, FAKE_LOG: log, ...extra}
}
function calls(): string[][] {
  return readFileSync(log, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l))
}
function canned(name: string, text: string): string {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

const composeProfile = parseProfileText('name: shop\ntarget: compose\nhttp: {port: 1880}\nfailover: {statusPort: 9880}\n')
/** A container as `docker inspect` shows it: labels, published ports (container -> host on 127.0.0.1), an address. */
const inspected = (service: string, ports: Array<[number, number]>, labels: Record<string, string>, extra: {ip?: string; status?: string} = {}) => ({
  Id: `id-${service}`,
  Name: `/shop-${service}-1`,
  State: {Status: extra.status ?? 'running', Running: (extra.status ?? 'running') === 'running'},
  Config: {Labels: {'com.docker.compose.service': service, ...labels}},
  NetworkSettings: {
    Ports: Object.fromEntries(ports.map(([target, host]) => [`${target}/tcp`, [{HostIp: '127.0.0.1', HostPort: String(host)}]])),
    Networks: {shop_default: {IPAddress: extra.ip ?? ''}},
  },
})
const replicaLabels = (name: string, project = 'shop') => ({'io.ff-ha.replica': name, 'io.ff-ha.profile': 'shop', 'com.docker.compose.project': project})
const PS_BY_PROFILE = ['docker', 'ps', '--all', '--quiet', '--no-trunc', '--filter', 'label=io.ff-ha.profile=shop']

describe('compose discovery (asks the engine: the same for Compose v2 and docker-compose 1.29)', () => {
  it('finds the replicas by the profile label with `docker ps`, and their fixed loopback ports with `docker inspect`', async () => {
    const inspect = JSON.stringify([
      inspected('shop-1', [[1880, 18802], [9880, 19882]], replicaLabels('shop-1')),
      inspected('shop-0', [[1880, 18801], [9880, 19881]], replicaLabels('shop-0')),
    ])
    const found = await discoverReplicas({profile: composeProfile, env: env({FAKE_DOCKER_OUT: canned('ps', 'id-shop-0\nid-shop-1\n'), FAKE_DOCKER_INSPECT_OUT: canned('inspect', inspect)})})
    expect(calls()).toEqual([PS_BY_PROFILE, ['docker', 'inspect', 'id-shop-0', 'id-shop-1']])
    expect(found.source).toBe('compose')
    expect(found.replicas).toEqual([
      {name: 'shop-0', url: 'http://127.0.0.1:18801/', agentUrl: 'http://127.0.0.1:19881/'},
      {name: 'shop-1', url: 'http://127.0.0.1:18802/', agentUrl: 'http://127.0.0.1:19882/'},
    ])
  })

  it('selects unlabelled replicas by service name and reaches unpublished ports on the container address', async () => {
    const inspect = JSON.stringify([
      inspected('shop-0', [], {}, {ip: '172.18.0.3'}),
      inspected('shop-1', [], {}, {ip: '172.18.0.4'}),
      inspected('mosquitto', [[1883, 1883]], {}, {ip: '172.18.0.5'}),
    ])
    const found = await discoverReplicas({profile: composeProfile, env: env({FAKE_DOCKER_OUT: canned('ps', 'a\nb\nc\n'), FAKE_DOCKER_INSPECT_OUT: canned('inspect', inspect)})})
    expect(found.replicas).toEqual([
      {name: 'shop-0', url: 'http://172.18.0.3:1880/', agentUrl: 'http://172.18.0.3:9880/'},
      {name: 'shop-1', url: 'http://172.18.0.4:1880/', agentUrl: 'http://172.18.0.4:9880/'},
    ])
  })

  it('falls back to the Compose project label when no container carries the profile label', async () => {
    await expect(discoverReplicas({profile: composeProfile, env: env({FAKE_DOCKER_OUT: canned('empty', '')})})).rejects.toThrow(/project "shop": no running replica containers \(0 replica containers in all\)/)
    expect(calls()).toEqual([PS_BY_PROFILE, ['docker', 'ps', '--all', '--quiet', '--no-trunc', '--filter', 'label=com.docker.compose.project=shop']])
  })

  it('says so when the replicas exist but none runs', async () => {
    const inspect = JSON.stringify([inspected('shop-0', [[1880, 18801]], replicaLabels('shop-0'), {status: 'exited'})])
    await expect(discoverReplicas({profile: composeProfile, env: env({FAKE_DOCKER_OUT: canned('ps', 'x\n'), FAKE_DOCKER_INSPECT_OUT: canned('inspect', inspect)})})).rejects.toThrow(/no running replica containers \(1 replica container in all\)/)
  })

  it('keeps the profile\'s project when one profile runs in two projects, and refuses to guess between others', async () => {
    const two = JSON.stringify([inspected('shop-0', [[1880, 18801]], replicaLabels('shop-0', 'shop')), inspected('shop-0', [[1880, 28801]], replicaLabels('shop-0', 'other'))])
    const found = await discoverReplicas({profile: composeProfile, env: env({FAKE_DOCKER_OUT: canned('ps', 'x\ny\n'), FAKE_DOCKER_INSPECT_OUT: canned('inspect', two)})})
    expect(found.replicas.map(r => r.url)).toEqual(['http://127.0.0.1:18801/'])
    const others = JSON.stringify([inspected('shop-0', [[1880, 1]], replicaLabels('shop-0', 'a')), inspected('shop-0', [[1880, 2]], replicaLabels('shop-0', 'b'))])
    await expect(discoverReplicas({profile: composeProfile, env: env({FAKE_DOCKER_OUT: canned('ps', 'x\ny\n'), FAKE_DOCKER_INSPECT_OUT: canned('inspect2', others)})})).rejects.toThrow(/2 Compose projects \(a, b\), none of them "shop"/)
  })

  it('explains a docker that fails: the exit code and the first line of stderr', async () => {
    const err = await discoverReplicas({profile: composeProfile, env: env({FAKE_EXIT: '1', FAKE_STDERR: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\nIs the docker daemon running?\n'})}).catch(e => e)
    expect(err).toBeInstanceOf(RemoteError)
    expect(err.message).toBe('`docker ps --all --quiet` failed with exit code 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock.')
    expect(err.hint).toMatch(/docker ps/)
  })

  it('explains a docker that is not installed (ENOENT): command not found, not a stack trace', async () => {
    const err = await discoverReplicas({profile: composeProfile, env: {PATH: dir}}).catch(e => e)
    expect(err).toBeInstanceOf(RemoteError)
    expect(err.message).toBe('`docker` not found (exit 127: command not found): is it installed and on PATH?')
    expect(err.hint).toMatch(/install Docker/)
  })

  it('chooses the Compose command line: $FF_HA_COMPOSE, else `docker compose` when it answers, else docker-compose', async () => {
    expect(await composeCommand({env: {FF_HA_COMPOSE: 'docker-compose'}})).toEqual(['docker-compose'])
    expect(await composeCommand({env: env()})).toEqual(['docker', 'compose'])
    expect(calls()).toEqual([['docker', 'compose', 'version']])
    await expect(composeCommand({env: {PATH: dir}})).rejects.toThrow(/neither `docker compose` \(Compose v2\) nor `docker-compose` answers/)
  })
})

describe('kubernetes discovery', () => {
  const k8sProfile = parseProfileText('name: shop\ntarget: kubernetes\nkubernetes: {namespace: prod}\nfailover: {lease: kubernetes}\n')
  const pod = (name: string, phase = 'Running', deleting = false) => ({metadata: {name, ...(deleting ? {deletionTimestamp: '2026-01-01T00:00:00Z'} : {})}, status: {phase}})
  const pods = (list: unknown[]) => canned('pods.json', JSON.stringify({kind: 'List', items: list}))

  it('lists the pods by the labels `ff-ha render` gives them and port-forwards each pod for the duration, then stops the forwards', async () => {
    const found = await discoverReplicas({profile: k8sProfile, env: env({FAKE_KUBECTL_PODS: pods([pod('shop-0'), pod('shop-1'), pod('shop-2', 'Pending'), pod('shop-3', 'Running', true)])})})
    try {
      expect(found.source).toBe('kubernetes')
      expect(found.replicas.map(r => r.name)).toEqual(['shop-0', 'shop-1'])
      for (const r of found.replicas) {
        expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
        expect(r.agentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
        expect(r.url).not.toBe(r.agentUrl)
      }
      expect(calls()).toEqual([
        ['kubectl', 'get', 'pods', '-n', 'prod', '-l', 'app.kubernetes.io/name=node-red,app.kubernetes.io/instance=shop', '-o', 'json'],
        ['kubectl', 'port-forward', '-n', 'prod', 'pod/shop-0', '--address', '127.0.0.1', ':1880', ':9880'],
        ['kubectl', 'port-forward', '-n', 'prod', 'pod/shop-1', '--address', '127.0.0.1', ':1880', ':9880'],
      ])
    } finally {
      await found.close()
    }
    const killed = calls().filter(c => c[1] === 'SIGTERM').map(c => c[2]).sort()
    expect(killed).toEqual(['pod/shop-0', 'pod/shop-1'])
  })

  it('stops the forwards already made when one fails, and says why in words', async () => {
    const err = await discoverReplicas({profile: k8sProfile, env: env({FAKE_KUBECTL_PODS: pods([pod('shop-0'), pod('shop-1')]), FAKE_FORWARD_FAIL: 'shop-1'})}).catch(e => e)
    expect(err).toBeInstanceOf(RemoteError)
    expect(err.message).toBe('`kubectl port-forward -n prod` failed with exit code 1: error: unable to forward port because pod is not running. Current status=Pending')
    expect(calls().filter(c => c[1] === 'SIGTERM').map(c => c[2])).toEqual(['pod/shop-0'])
  })

  it('says so when no pod runs, and when kubectl is missing', async () => {
    await expect(discoverReplicas({profile: k8sProfile, env: env({FAKE_KUBECTL_PODS: pods([pod('shop-0', 'Pending')])})})).rejects.toThrow(
      'kubectl: no running pods with app.kubernetes.io/name=node-red,app.kubernetes.io/instance=shop in namespace prod (1 in all)',
    )
    await expect(discoverReplicas({profile: k8sProfile, env: {PATH: dir}})).rejects.toThrow('`kubectl` not found (exit 127: command not found)')
  })
})

describe('targets, static lists and the local cluster file', () => {
  it('names a --target by host:port, or by name=URL', () => {
    expect(parseTarget('http://127.0.0.1:1880')).toEqual({name: '127.0.0.1:1880', url: 'http://127.0.0.1:1880/'})
    expect(parseTarget('a=https://nr.example.com/admin/')).toEqual({name: 'a', url: 'https://nr.example.com/admin/'})
    expect(() => parseTarget('127.0.0.1:1880')).toThrow(InputError)
    expect(() => parseTarget('ftp://x/')).toThrow(/must be an http/)
    expect(() => parseTarget('http://u:pw@x/')).toThrow(/do not put credentials in the URL/)
  })

  it('--target wins over the profile; the profile static list is used as is', async () => {
    const profile = parseProfileText('name: shop\ndeploy:\n  replicas:\n    - {name: a, url: "http://10.0.0.1:1880/", agentUrl: "http://10.0.0.1:9880/"}\n')
    expect((await discoverReplicas({profile, targets: ['http://h:1/']})).replicas).toEqual([{name: 'h:1', url: 'http://h:1/'}])
    const found = await discoverReplicas({profile})
    expect(found.source).toBe('static')
    expect(found.replicas).toEqual([{name: 'a', url: 'http://10.0.0.1:1880/', agentUrl: 'http://10.0.0.1:9880/'}])
  })

  it('reads the local cluster file that failover-test writes, and explains a missing or bad one', async () => {
    const file = join(dir, 'local-cluster.json')
    writeFileSync(file, JSON.stringify({replicas: [{name: 'r0', url: 'http://127.0.0.1:5000/', agentUrl: 'http://127.0.0.1:5001/', pid: 1}]}))
    const found = await discoverReplicas({source: 'local', clusterFile: file})
    expect(found.replicas).toEqual([{name: 'r0', url: 'http://127.0.0.1:5000/', agentUrl: 'http://127.0.0.1:5001/'}])
    await expect(discoverReplicas({source: 'local', clusterFile: join(dir, 'nope.json')})).rejects.toThrow(/nope.json: no local cluster file/)
    writeFileSync(file, JSON.stringify({replicas: [{name: 'r0'}]}))
    await expect(discoverReplicas({source: 'local', clusterFile: file})).rejects.toThrow(/replicas\.0\.url/)
    await expect(discoverReplicas({})).rejects.toThrow(/no replicas to deploy to/)
  })
})

describe('explainToolFailure', () => {
  it('names signals and timeouts in words', () => {
    expect(explainToolFailure('kubectl', ['get', 'pods'], {signal: 'SIGKILL', stderr: ''})).toBe('`kubectl get pods` was killed by SIGKILL')
    expect(explainToolFailure('docker', ['compose'], {timedOut: true})).toBe('`docker compose` did not finish in time and was stopped')
    expect(explainToolFailure('docker', [], {exitCode: 126})).toMatch(/not executable/)
  })
})
