import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import {execFileSync} from 'node:child_process'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {packageRoot} from '../../../src/paths.js'
import {RENDERED, replicaNames} from '../../../src/render/names.js'
import {goldenCases} from '../../golden/cases.js'

// compose.yaml against the vendored Compose Specification schema (schemas/README.md says where it is from),
// plus the checks a schema cannot make: above all that it runs unmodified on docker-compose 1.29 (Debian 12)
// as well as Compose v2 on Engine 20.10. docker-compose 1.29's own `config` runs on every rendered file when
// it is installed (CI installs it); without it that check says loudly that it did not run.
// The whole project on a real engine: test/integration/compose/.
const ajv = new Ajv2020({strict: false, allErrors: true})
addFormats.default(ajv)
ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/)
const validateCompose = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'schemas', 'compose-spec.json'), 'utf8')))

const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-compose-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const dockerCompose = (() => {
  try {
    execFileSync('docker-compose', ['version'], {stdio: 'ignore'})
    return true
  } catch {
    console.warn('NOT RUN: `docker-compose config` on the rendered files (docker-compose 1.29 is not installed: apt-get install docker-compose)')
    return false
  }
})()

type Service = {
  image?: string
  build?: unknown
  environment?: Record<string, string>
  volumes?: string[]
  configs?: {source: string; target: string}[]
  depends_on?: Record<string, {condition: string}>
  expose?: string[]
  ports?: unknown[]
  read_only?: boolean
  tmpfs?: string[]
  cap_drop?: string[]
  security_opt?: string[]
  mem_limit?: string
  stop_grace_period?: string
  user?: string
  healthcheck?: {test: string[]; interval?: string; timeout?: string; start_interval?: string}
}
type Project = {name?: string; services: Record<string, Service>; volumes?: Record<string, unknown>; configs?: Record<string, {file: string}>; version?: unknown}

describe('the vendored Compose schema', () => {
  it('rejects a broken compose file (so the checks below are not vacuous)', () => {
    expect(validateCompose({services: {a: {image: 'x', restart: 42, stop_grace_period: 'soon', unknown_key: 1}}})).toBe(false)
  })

  it('accepts the template itself (templates/compose/compose.yaml is a valid compose file)', () => {
    validateCompose(parse(readFileSync(join(packageRoot, 'templates', 'compose', 'compose.yaml'), 'utf8')))
    expect(validateCompose.errors ?? []).toEqual([])
  })
})

for (const c of goldenCases().filter(c => c.profile.target === 'compose')) {
  describe(`compose: ${c.name}`, () => {
    const project = parse(c.files[RENDERED.compose]) as Project
    const replicas = replicaNames(c.profile)

    it('is valid against the Compose Specification schema and has no version key', () => {
      const ok = validateCompose(project)
      expect(validateCompose.errors ?? []).toEqual([])
      expect(ok).toBe(true)
      expect(project.version).toBeUndefined()
    })

    it('has one service per replica with the agent command, its own userDir volume and the agent health check', () => {
      for (const r of replicas) {
        const s = project.services[r]
        expect(s, r).toBeDefined()
        expect((s as {command: string[]}).command).toEqual(['--replica', r])
        expect(s.environment!.FF_HA_REPLICA).toBe(r)
        expect(s.volumes).toContain(`${r}-data:/data`)
        expect(s.expose).toEqual([String(c.profile.http.port), String(c.profile.failover.statusPort)])
        // Published on the host's loopback only, on fixed ports from the profile (found again after a restart),
        // in the short syntax (docker-compose 1.29 rejects the long syntax's host_ip).
        const i = replicas.indexOf(r)
        expect(s.ports).toEqual([
          `127.0.0.1:${c.profile.compose.ports.replicaHttp + i}:${c.profile.http.port}`,
          `127.0.0.1:${c.profile.compose.ports.replicaStatus + i}:${c.profile.failover.statusPort}`,
        ])
        expect(s.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${c.profile.failover.statusPort}/healthz`)
        expect(s.image ?? s.build).toBeTruthy()
      }
      const dataVolumes = replicas.map(r => project.services[r].volumes!.find(v => v.endsWith(':/data')))
      expect(new Set(dataVolumes).size).toBe(replicas.length)
    })

    // Hot-spare for its lease, load-balanced for the ff-ha singleton node's named leases.
    it('shares one lease volume across the replicas', () => {
      for (const r of replicas) {
        const lease = project.services[r].volumes!.filter(v => v.startsWith('lease:'))
        expect(lease).toEqual([`lease:${c.profile.failover.leaseFile.replace(/\/[^/]+$/, '')}`])
        expect(project.services[r].environment!.FF_HA_LEASE_FILE).toBe(c.profile.failover.leaseFile)
      }
    })

    it('passes the secrets by name only, required at `docker compose up`', () => {
      for (const r of replicas) {
        const env = project.services[r].environment!
        for (const name of [c.profile.secrets.adminTokenEnv, c.profile.secrets.credentialSecretEnv]) {
          expect(env[name]).toMatch(new RegExp(`^\\$\\{${name}:\\?`))
        }
      }
    })

    it('declares every volume, config and dependency it uses, and every config file exists in the tree', () => {
      for (const [name, s] of Object.entries(project.services)) {
        for (const v of (s.volumes ?? []).filter(v => !v.startsWith('./'))) expect(Object.keys(project.volumes ?? {}), `${name} ${v}`).toContain(v.split(':')[0])
        for (const cfg of s.configs ?? []) expect(Object.keys(project.configs ?? {}), `${name} ${cfg.source}`).toContain(cfg.source)
        for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(project.services)).toContain(dep)
      }
      // read-only bind mounts of rendered files (not configs, which docker-compose 1.29 silently ignores)
      const binds = Object.values(project.services).flatMap(s => (s.volumes ?? []).filter(v => v.startsWith('./')))
      expect(binds.length).toBeGreaterThan(0)
      for (const b of binds) {
        expect(b, b).toMatch(/:ro$/)
        expect(Object.keys(c.files)).toContain(b.split(':')[0].replace(/^\.\//, ''))
      }
    })

    it('uses nothing that docker-compose 1.29 or Engine 20.10 refuses: no top-level name or configs, no start_interval, whole-second durations', () => {
      expect(project.name).toBeUndefined()
      expect(project.configs).toBeUndefined()
      expect(c.files[RENDERED.compose]).toContain(`-p ${c.profile.compose.project} up`)
      for (const [name, s] of Object.entries(project.services)) {
        expect(s.configs, name).toBeUndefined()
        expect(s.healthcheck?.start_interval, name).toBeUndefined()
        for (const p of s.ports ?? []) expect(typeof p, `${name} ${JSON.stringify(p)}`).toBe('string')
        if (s.stop_grace_period) expect(s.stop_grace_period, name).toMatch(/^\d+s$/)
      }
    })

    it.skipIf(!dockerCompose)('is accepted by docker-compose 1.29 itself (`docker-compose config`)', async () => {
      const dir = mkdtempSync(join(tmp, `${c.name}-`))
      for (const [path, text] of Object.entries(c.files)) {
        mkdirSync(dirname(join(dir, path)), {recursive: true})
        writeFileSync(join(dir, path), text)
      }
      const r = await execa('docker-compose', ['-p', c.profile.compose.project, 'config', '-q'], {cwd: dir, reject: false, all: true, env: {[c.profile.secrets.adminTokenEnv]: 'x', [c.profile.secrets.credentialSecretEnv]: 'y'}})
      expect(r.all).toBe('')
      expect(r.exitCode).toBe(0)
    })

    it('is hardened: no capabilities, no privilege gain, a read-only root for the replicas with /tmp writable, memory limits from the profile', () => {
      for (const [name, s] of Object.entries(project.services)) {
        expect(s.cap_drop, name).toEqual(['ALL'])
        expect(s.security_opt, name).toEqual(['no-new-privileges:true'])
        expect(s.mem_limit, name).toMatch(/^\d+[bkmg]$/)
      }
      for (const r of replicas) {
        const s = project.services[r]
        expect(s.read_only).toBe(true)
        expect(s.tmpfs).toEqual(['/tmp'])
        expect(s.mem_limit).toBe(c.profile.compose.memory.replica)
        expect(s.volumes).toContain(`${r}-data:/data`)
      }
      expect(project.services.haproxy.mem_limit).toBe(c.profile.compose.memory.haproxy)
    })

    it('has a light health check that a busy host does not fail (>= 10 s timeout, >= 15 s interval)', () => {
      for (const r of replicas) {
        const h = project.services[r].healthcheck!
        expect(parseInt(h.timeout!)).toBeGreaterThanOrEqual(10)
        expect(parseInt(h.interval!)).toBeGreaterThanOrEqual(15)
      }
    })

    it('publishes HAProxy on the profile port and routes to exactly the replica services', async () => {
      const proxy = project.services.haproxy
      expect(proxy.ports![0]).toBe(`${c.profile.compose.ports.http}:${c.profile.http.port}`)
      // the stats page only on the host's loopback
      expect(proxy.ports!.slice(1)).toEqual(c.profile.compose.ports.stats ? [`127.0.0.1:${c.profile.compose.ports.stats}:8404`] : [])
      expect(Object.keys(proxy.depends_on!).sort()).toEqual([...replicas].sort())
      const cfg = c.files[RENDERED.haproxy]
      const servers = [...cfg.matchAll(/^ {4}server (\S+) (\S+):(\d+) check port (\d+)/gm)]
      expect(servers.map(m => m[1])).toEqual(replicas)
      for (const m of servers) expect([m[2], Number(m[3]), Number(m[4])]).toEqual([m[1], c.profile.http.port, c.profile.failover.statusPort])
      const file = join(tmp, `${c.name}.cfg`)
      writeFileSync(file, cfg)
      const r = await execa('haproxy', ['-c', '-f', file], {reject: false, all: true})
      expect(r.all).toContain('Configuration file is valid')
    })

    it(c.profile.mqtt.bundled ? 'bundles Mosquitto with a health check the replicas wait for' : 'has no Mosquitto service', () => {
      const broker = project.services.mosquitto
      if (!c.profile.mqtt.bundled) return expect(broker).toBeUndefined()
      expect(broker.healthcheck!.test).toContain('mosquitto_sub')
      for (const r of replicas) expect(project.services[r].depends_on!.mosquitto.condition).toBe('service_healthy')
      expect(c.files[RENDERED.mosquitto]).toMatch(/^listener 1883$/m)
      // reachable from the host on the loopback (failover-test --mqtt-url), as the image's own non-root user
      expect(broker.ports).toEqual([`127.0.0.1:${c.profile.compose.ports.mqtt}:1883`])
      expect(broker.user).toBe('1883:1883')
    })
  })
}
