import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {packageRoot} from '../../../src/paths.js'
import {RENDERED, replicaNames} from '../../../src/render/names.js'
import {goldenCases} from '../../golden/cases.js'

// compose.yaml against the vendored Compose Specification schema (schemas/README.md says where it is from),
// plus the checks a schema cannot make. No Docker engine runs here: `docker compose config` is not run.
const ajv = new Ajv2020({strict: false, allErrors: true})
addFormats.default(ajv)
ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/)
const validateCompose = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'schemas', 'compose-spec.json'), 'utf8')))

const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-compose-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

type Service = {
  image?: string
  build?: unknown
  environment?: Record<string, string>
  volumes?: string[]
  configs?: {source: string; target: string}[]
  depends_on?: Record<string, {condition: string}>
  expose?: string[]
  healthcheck?: {test: string[]}
  ports?: unknown[]
}
type Project = {name: string; services: Record<string, Service>; volumes?: Record<string, unknown>; configs?: Record<string, {file: string}>; version?: unknown}

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
    const hotSpare = c.profile.mode === 'hot-spare'

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
        // Published on the host's loopback only, on ports Docker picks (no clash between replicas or projects).
        expect(s.ports).toEqual([c.profile.http.port, c.profile.failover.statusPort].map(target => ({target, host_ip: '127.0.0.1', protocol: 'tcp'})))
        expect(s.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${c.profile.failover.statusPort}/healthz`)
        expect(s.image ?? s.build).toBeTruthy()
      }
      const dataVolumes = replicas.map(r => project.services[r].volumes!.find(v => v.endsWith(':/data')))
      expect(new Set(dataVolumes).size).toBe(replicas.length)
    })

    it(hotSpare ? 'shares one lease volume across the replicas' : 'has no lease volume', () => {
      for (const r of replicas) {
        const lease = project.services[r].volumes!.filter(v => v.startsWith('lease:'))
        expect(lease).toEqual(hotSpare ? [`lease:${c.profile.failover.leaseFile.replace(/\/[^/]+$/, '')}`] : [])
        expect(project.services[r].environment!.FF_HA_LEASE_FILE).toBe(hotSpare ? c.profile.failover.leaseFile : undefined)
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
        for (const v of s.volumes ?? []) expect(Object.keys(project.volumes ?? {}), `${name} ${v}`).toContain(v.split(':')[0])
        for (const cfg of s.configs ?? []) expect(Object.keys(project.configs ?? {}), `${name} ${cfg.source}`).toContain(cfg.source)
        for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(project.services)).toContain(dep)
      }
      for (const cfg of Object.values(project.configs ?? {})) expect(Object.keys(c.files)).toContain(cfg.file.replace(/^\.\//, ''))
      expect(project.name).toBe(c.profile.compose.project)
    })

    it('publishes HAProxy on the profile port and routes to exactly the replica services', async () => {
      const proxy = project.services.haproxy
      expect(proxy.ports![0]).toBe(`${c.profile.compose.ports.http}:${c.profile.http.port}`)
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
    })
  })
}
