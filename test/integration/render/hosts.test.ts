// Per-host Compose render (issue #13; docs/design/multi-host.md): one project per host, each checked against the
// vendored Compose schema and by docker-compose 1.29's own `config`, its haproxy.cfg by `haproxy -c`. Without
// docker-compose or haproxy those checks say loudly what did not run (and fail when CI or FF_HA_REQUIRE_DOCKER
// says they must run). Starting the projects needs images from a registry this machine cannot reach: the hosts
// drill target (test/integration/drill/) runs the same layout with real processes.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {InputError} from '../../../src/errors.js'
import {packageRoot} from '../../../src/paths.js'
import {renderFromProfile} from '../../../src/render/run.js'

const ajv = new Ajv2020({strict: false, allErrors: true})
addFormats.default(ajv)
ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/)
const validateCompose = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'schemas', 'compose-spec.json'), 'utf8')))

const must = process.env.CI === 'true' || process.env.FF_HA_REQUIRE_DOCKER === '1'
function tool(name: string, args: string[], install: string): boolean {
  try {
    execFileSync(name, args, {stdio: 'ignore'})
    return true
  } catch {
    const line = `NOT RUN: \`${name}\` checks of the per-host render (${name} is not installed: ${install})`
    if (must) throw new Error(line)
    console.warn(line)
    return false
  }
}
const dockerCompose = tool('docker-compose', ['version'], 'apt-get install docker-compose')
const haproxy = tool('haproxy', ['-v'], 'apt-get install haproxy')

const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-hosts-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const PROFILE = `name: plant
mode: hot-spare
replicas: 3
nodeRed:
  ffHaSource: registry
failover:
  lease: etcd
  etcd:
    endpoints: [http://10.0.0.5:2379, http://10.0.0.6:2379, http://10.0.0.7:2379]
mqtt:
  broker: mqtt://10.0.0.9:1883
hosts:
  - {name: plant-a, address: 10.0.0.5, replicas: 2, etcd: true}
  - {name: plant-b, address: 10.0.0.6, replicas: 1, etcd: true}
  - {name: witness, address: 10.0.0.7, replicas: 0, etcd: true}
`

function writeProfile(name: string, text: string): string {
  const p = join(tmp, name)
  writeFileSync(p, text)
  return p
}

function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

type Service = {image?: string; command?: string[]; environment?: Record<string, string>; ports?: string[]; depends_on?: Record<string, unknown>; volumes?: string[]}
const compose = (path: string) => parse(readFileSync(path, 'utf8')) as {services: Record<string, Service>; volumes: Record<string, unknown>}

describe('render with hosts: one Compose project per host', () => {
  const profile = writeProfile('ff-ha.yaml', PROFILE)
  const out = join(tmp, 'deploy')
  const result = renderFromProfile({profileFile: profile, outDir: out})

  it('writes one folder per host: the Node-RED hosts a whole build context, the witness only its compose.yaml', () => {
    expect(result.hosts).toEqual(['plant-a', 'plant-b', 'witness'])
    const files = filesUnder(out)
    for (const host of ['plant-a', 'plant-b']) {
      for (const f of ['compose.yaml', 'Dockerfile', 'haproxy/haproxy.cfg', 'node-red/settings.js', 'profile/ff-ha.yaml']) expect(files).toContain(`${host}/${f}`)
    }
    expect(files.filter(f => f.startsWith('witness/'))).toEqual(['witness/compose.yaml'])
    expect(files.filter(f => !/^(plant-a|plant-b|witness)\//.test(f))).toEqual([])
  })

  it("gives each host its replicas, the proxy and its etcd member; every agent gets every etcd endpoint", () => {
    const a = compose(join(out, 'plant-a/compose.yaml'))
    const b = compose(join(out, 'plant-b/compose.yaml'))
    const w = compose(join(out, 'witness/compose.yaml'))
    expect(Object.keys(a.services).sort()).toEqual(['etcd', 'haproxy', 'plant-0', 'plant-1'])
    expect(Object.keys(b.services).sort()).toEqual(['etcd', 'haproxy', 'plant-2'])
    expect(Object.keys(w.services)).toEqual(['etcd'])
    for (const [project, replica] of [[a, 'plant-0'], [a, 'plant-1'], [b, 'plant-2']] as const) {
      expect(project.services[replica].environment!.FF_HA_ETCD_ENDPOINTS).toBe('http://10.0.0.5:2379,http://10.0.0.6:2379,http://10.0.0.7:2379')
      expect(project.services[replica].environment!.FF_HA_LEASE_FILE).toBeUndefined()
    }
    // Replica i publishes on its host's address (the other hosts' proxies reach it there), numbered across hosts.
    expect(b.services['plant-2'].ports).toEqual(['10.0.0.6:18803:1880', '10.0.0.6:19883:9880'])
    expect(a.services['plant-1'].ports).toEqual(['10.0.0.5:18802:1880', '10.0.0.5:19882:9880'])
    expect(Object.keys(b.services.haproxy.depends_on!)).toEqual(['plant-2'])
    // One etcd cluster: the same initial cluster on every member, each advertising its own address.
    const arg = (s: Service, flag: string) => s.command![s.command!.indexOf(flag) + 1]
    const cluster = 'plant-a=http://10.0.0.5:2380,plant-b=http://10.0.0.6:2380,witness=http://10.0.0.7:2380'
    for (const [project, address] of [[a, '10.0.0.5'], [b, '10.0.0.6'], [w, '10.0.0.7']] as const) {
      expect(arg(project.services.etcd, '--initial-cluster')).toBe(cluster)
      expect(arg(project.services.etcd, '--advertise-client-urls')).toBe(`http://${address}:2379`)
      expect(project.services.etcd.ports).toEqual([`${address}:2379:2379`, `${address}:2380:2380`])
    }
    expect(readFileSync(join(out, 'witness/compose.yaml'), 'utf8')).toContain('docker-compose -p plant-witness up -d')
  })

  it("each host's HAProxy knows every replica: its own by service name, the others at their host's published ports", () => {
    const cfg = readFileSync(join(out, 'plant-b/haproxy/haproxy.cfg'), 'utf8')
    const servers = cfg.split('\n').filter(l => /^\s+server /.test(l)).map(l => l.trim())
    expect(servers).toEqual(['server plant-0 10.0.0.5:18801 check port 19881', 'server plant-1 10.0.0.5:18802 check port 19882', 'server plant-2 plant-2:1880 check port 9880'])
  })

  it('every compose.yaml passes the Compose Specification schema', () => {
    for (const host of ['plant-a', 'plant-b', 'witness']) {
      const doc = parse(readFileSync(join(out, host, 'compose.yaml'), 'utf8'))
      expect(validateCompose(doc), `${host}: ${JSON.stringify(validateCompose.errors)}`).toBe(true)
    }
  })

  it.skipIf(!dockerCompose)('every compose.yaml is accepted by docker-compose 1.29 itself (`docker-compose config`)', async () => {
    for (const host of ['plant-a', 'plant-b', 'witness']) {
      const r = await execa('docker-compose', ['-p', `plant-${host}`, 'config', '-q'], {cwd: join(out, host), reject: false, all: true, env: {FF_HA_ADMIN_TOKEN: 'x', FF_HA_CREDENTIAL_SECRET: 'y'}})
      expect(r.exitCode, `${host}: ${r.all}`).toBe(0)
    }
  })

  it.skipIf(!haproxy)('every haproxy.cfg is valid for haproxy -c', async () => {
    for (const host of ['plant-a', 'plant-b']) {
      const r = await execa('haproxy', ['-c', '-f', join(out, host, 'haproxy/haproxy.cfg')], {reject: false, all: true})
      expect(r.exitCode, `${host}: ${r.all}`).toBe(0)
    }
  })

  it('--host NAME renders that host alone, at the top of --out, the same files as its folder', () => {
    const one = join(tmp, 'one')
    const r = renderFromProfile({profileFile: profile, outDir: one, host: 'plant-b'})
    expect(r.hosts).toEqual(['plant-b'])
    const files = filesUnder(one)
    expect(files).toEqual(filesUnder(join(out, 'plant-b')))
    for (const f of files) expect(readFileSync(join(one, f), 'utf8'), f).toBe(readFileSync(join(out, 'plant-b', f), 'utf8'))
    // And --check sees it up to date.
    expect(renderFromProfile({profileFile: profile, outDir: one, host: 'plant-b', check: true}).changed).toBe(false)
  })

  it('--host with a name the profile does not list, or without hosts: one line and a hint, exit 2', () => {
    for (const [file, host, message, hint] of [
      [profile, 'plant-c', '--host plant-c: the profile has no such host', /plant-a, plant-b, witness/],
      [writeProfile('one-host.yaml', 'name: solo\n'), 'plant-a', '--host plant-a: the profile lists no hosts', /add hosts:/],
    ] as const) {
      let error: unknown
      try {
        renderFromProfile({profileFile: file, outDir: join(tmp, `bad-${host}`), host})
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(InputError)
      expect((error as InputError).message).toBe(message)
      expect((error as InputError).exitCode).toBe(2)
      expect((error as InputError).hint).toMatch(hint)
    }
  })

  it('the ff-ha CLI: render --host, and an unknown host is exit 2 without a stack trace', async () => {
    const bin = join(packageRoot, 'bin', 'run.js')
    const good = await execa('node', [bin, 'render', '--profile', profile, '--out', join(tmp, 'cli'), '--host', 'witness'], {reject: false, all: true})
    expect(good.exitCode, good.all).toBe(0)
    expect(filesUnder(join(tmp, 'cli'))).toEqual(['compose.yaml'])
    const bad = await execa('node', [bin, 'render', '--profile', profile, '--out', join(tmp, 'cli2'), '--host', 'nope'], {reject: false, all: true})
    expect(bad.exitCode).toBe(2)
    expect(bad.all).toContain('--host nope: the profile has no such host')
    expect(bad.all).not.toMatch(/\n\s+at /)
  })
})
