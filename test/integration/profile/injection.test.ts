import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Script} from 'node:vm'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {parseAllDocuments, parseDocument} from 'yaml'
import {FfHaError, InputError} from '../../../src/errors.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {profileSchema} from '../../../src/profile/schema.js'
import {renderProject} from '../../../src/render/project.js'

// Injection through the profile: every field of the profile, given hostile values, either fails validation
// (exit 2 at file:line:col of the field, one line, with a hint) or renders inert: each rendered file keeps the
// structure it has with a benign value (the same YAML keys, the same haproxy.cfg directives, the same
// settings.js lines), Compose sees no `$` it would interpolate, and HAProxy itself accepts the haproxy.cfg.

// Bases where each field reaches the files it can reach: compose hot-spare (lease file, bundled broker, stats
// page, witness), compose load-balanced (adminRoot in the HAProxy ACLs), kubernetes with an ingress.
const BASES: Record<string, string> = {
  'compose-hot-spare': 'name: shop\nmqtt: {broker: "mqtt://mosquitto:1883", bundled: true}\ncompose: {ports: {stats: 8404}}\nfailover: {witness: "haproxy:1880"}\n',
  'compose-load-balanced': 'name: shop\nmode: load-balanced\nnodeRed: {adminRoot: /admin}\ndeploy: {replicas: [{name: r0, url: "http://10.0.0.5:1880", agentUrl: "http://10.0.0.5:9880"}]}\n',
  'kubernetes-ingress':
    'name: shop\ntarget: kubernetes\nmode: load-balanced\nkubernetes:\n  ingress: {host: node-red.example.com, className: nginx, tlsSecret: node-red-tls}\n  storageClass: fast\n  resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: "1", memory: 512Mi}}\n',
}

// Every leaf of the profile schema, by path (`*` for list items and record keys).
function schemaLeaves(): string[] {
  const out: string[] = []
  const walk = (schema: unknown, path: string[]) => {
    let s = schema as {def: {type: string; innerType?: unknown; in?: unknown; element?: unknown}; shape?: Record<string, unknown>}
    while (['optional', 'default', 'prefault', 'nullable', 'pipe'].includes(s.def.type)) s = (s.def.type === 'pipe' ? s.def.in : s.def.innerType) as typeof s
    if (s.def.type === 'object') for (const [k, v] of Object.entries(s.shape!)) walk(v, [...path, k])
    else if (s.def.type === 'array') walk(s.def.element, [...path, '0'])
    else if (s.def.type === 'record') out.push([...path, 'someSetting'].join('.'))
    else out.push(path.join('.'))
  }
  walk(profileSchema, [])
  return out
}

// 0 s of preStop renders no preStop hook: the only number that renders here, compared with its own structure.
const BENIGN: Record<string, string | number> = {'nodeRed.image': 'registry.example.com/team/node-red:4.1.8', 'kubernetes.preStopSeconds': 0,
  // A namespace list replaces the default sources: compared with a list of one plain namespace.
  'kubernetes.networkPolicy.httpFrom.0': 'monitoring', 'kubernetes.networkPolicy.statusFrom.0': 'monitoring',
  // A load-balanced profile with a singleton gets the RBAC for its lease: compared with one plain name.
  'failover.singletons.0': 'tick'}

const HOSTILE_STRINGS = [
  '/admin\n    http-request return status 200 content-type text/plain string pwned',
  'x\r\nlistener 1884',
  'mqtt://broker:1883\nlistener 1884',
  '$FF_HA_ADMIN_TOKEN',
  '/var/lib/${FF_HA_ADMIN_TOKEN}/lease.db',
  '/var/lib/ff ha;rm -rf /x/lease.db',
  'nginx"x',
  "it's",
  '# a comment',
  'a: b',
  '{a: 1}',
  '- item',
  'lots',
  '\u001b[2J',
  'a\u2028b',
  '../../etc/passwd',
  '',
  'a'.repeat(3000),
  'x'.repeat(70),
  'node-red.example.com\nhost: evil.example.com',
]
const HOSTILE_NUMBERS = [-1, 0, 0.5, 1e20, 65536, Number.POSITIVE_INFINITY]

const pathOf = (field: string): (string | number)[] => field.split('.').map(k => (/^\d+$/.test(k) ? Number(k) : k))

function profileWith(base: string, field: string, value: unknown): string {
  const doc = parseDocument(base)
  const path = pathOf(field)
  // A list item must exist before its fields can be set.
  if (path.includes(0) && !doc.hasIn(path.slice(0, path.indexOf(0) + 1))) doc.setIn(path.slice(0, path.indexOf(0) + 1), doc.createNode({name: 'r0', url: 'http://10.0.0.5:1880'}))
  doc.setIn(path, value)
  return doc.toString({lineWidth: 0})
}

const keyPaths = (v: unknown, prefix = ''): string[] =>
  v !== null && typeof v === 'object' ? Object.entries(v as object).flatMap(([k, x]) => keyPaths(x, `${prefix}/${Array.isArray(v) ? '#' : k}`)) : [prefix]

function scalars(v: unknown): string[] {
  if (typeof v === 'string') return [v]
  if (v !== null && typeof v === 'object') return Object.values(v as object).flatMap(scalars)
  return []
}

const firstWords = (cfg: string) => cfg.split('\n').map(l => l.trim().split(/\s+/)[0])

interface Outcome {
  rejected: number
  rendered: number
}

const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-injection-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))
const haproxyConfigs = new Map<string, string>()
const baselines = new Map<string, Record<string, string>>()

function checkInert(name: string, files: Record<string, string>, baseline: Record<string, string>, what: string): void {
  expect(Object.keys(files), what).toEqual(Object.keys(baseline))
  for (const [path, content] of Object.entries(files)) {
    const at = `${what}: ${path}`
    if (path.endsWith('.yaml') && path !== 'profile/ff-ha.yaml') {
      const docs = parseAllDocuments(content)
      for (const d of Array.isArray(docs) ? docs : [docs]) expect(d.errors, at).toEqual([])
      const value = parseDocument(content).toJS()
      // One scalar stays one scalar: the same keys, at the same places, as with a benign value.
      const named = (paths: string[]) => paths.map(p => p.split(name).join('<name>'))
      expect(named(keyPaths(value)), at).toEqual(keyPaths(parseDocument(baseline[path]).toJS()).map(p => p.split('shop').join('<name>')))
      if (path === 'compose.yaml') {
        // Compose interpolates `$`: only the escaped `$$`, the secrets' own ${NAME:?...} and the optional status
        // token's ${NAME:-} may be there.
        for (const s of scalars(value)) expect(s.replace(/\$\$/g, '').replace(/\$\{[A-Z_][A-Z0-9_]*(:\?[^}]*|:-)\}/g, ''), at).not.toContain('$')
      }
    } else if (path === 'haproxy/haproxy.cfg') {
      expect(firstWords(content), at).toEqual(firstWords(baseline[path]))
      haproxyConfigs.set(content, at)
    } else if (path === 'node-red/settings.js') {
      expect(() => new Script(content, {filename: at}), at).not.toThrow()
      expect(content.split('\n').length, at).toBe(baseline[path].split('\n').length)
      const line = content.split('\n').find(l => l.startsWith('const profile = '))!
      expect(() => JSON.parse(line.slice('const profile = '.length, line.lastIndexOf(' // ff-ha:profile'))), at).not.toThrow()
    } else if (path === 'Dockerfile' || path === 'mosquitto/mosquitto.conf') {
      expect(content.split('\n').length, at).toBe(baseline[path].split('\n').length)
      expect(firstWords(content), at).toEqual(firstWords(baseline[path]))
    } else if (path === 'profile/ff-ha.yaml') {
      // The copy the agents read loads as the same profile.
      expect(() => parseProfileText(content.split('\n').slice(1).join('\n')), at).not.toThrow()
    }
  }
}

function tryValue(baseName: string, field: string, value: unknown, outcome: Outcome): void {
  const base = BASES[baseName]
  const text = profileWith(base, field, value)
  const what = `${baseName} ${field}=${JSON.stringify(value)?.slice(0, 60)}`
  let profile
  try {
    profile = parseProfileText(text)
  } catch (err) {
    if (!(err instanceof InputError)) throw new Error(`${what}: not an InputError: ${String(err)}`, {cause: err})
    expect(err.exitCode, what).toBe(2)
    const m = /^ff-ha\.yaml:(\d+):(\d+) (\S+): /.exec(err.message)
    expect(m, `${what}: ${err.message}`).not.toBeNull()
    expect(err.message, what).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029]/)
    expect(err.hint, what).toMatch(/\w{3}/)
    // The position is the field's own line (a cross-field rule may point at the field it relates to).
    const line = text.split('\n')[Number(m![1]) - 1]
    const last = String(pathOf(m![3]).at(-1))
    // (A cross-field rule about a field left to its default points at the section that holds it, and so does a
    // missing required key: it has no line of its own.)
    if (text.includes(last) && !/: is required/.test(err.message)) expect(line, `${what}: ${err.message}`).toContain(/^\d+$/.test(last) ? '' : last)
    else expect(line, `${what}: ${err.message}`).toBeDefined()
    outcome.rejected++
    return
  }
  // Fields whose value decides the structure (a prebuilt image drops the build section) compare against a benign value.
  const benign = BENIGN[field] === undefined ? base : profileWith(base, field, BENIGN[field])
  const baseline = baselines.get(benign) ?? renderProject({profile: parseProfileText(benign), profileText: benign, version: '0.1.0'})
  baselines.set(benign, baseline)
  const files = renderProject({profile, profileText: text, version: '0.1.0'})
  checkInert(profile.name, files, baseline, what)
  outcome.rendered++
}

describe('a hostile value in any profile field fails validation or renders inert', () => {
  const leaves = schemaLeaves()

  it('the table covers every field of the schema (a new field is tested without a new line here)', () => {
    expect(leaves.length).toBeGreaterThan(45)
    for (const must of ['nodeRed.adminRoot', 'failover.leaseFile', 'mqtt.broker', 'kubernetes.ingress.host', 'kubernetes.ingress.className', 'kubernetes.resources.limits.memory', 'nodeRed.settings.someSetting', 'deploy.replicas.0.url']) {
      expect(leaves).toContain(must)
    }
  })

  for (const baseName of Object.keys(BASES)) {
    it(`${baseName}: ${HOSTILE_STRINGS.length} hostile strings and ${HOSTILE_NUMBERS.length} numbers in each of the fields`, () => {
      const outcome: Outcome = {rejected: 0, rendered: 0}
      for (const field of leaves) {
        for (const value of [...HOSTILE_STRINGS, ...HOSTILE_NUMBERS]) tryValue(baseName, field, value, outcome)
      }
      // Both outcomes happen: most hostile values are refused, some (free text in settings.js) render escaped.
      expect(outcome.rejected).toBeGreaterThan(leaves.length * 10)
      expect(outcome.rendered).toBeGreaterThan(5)
      console.log(`${baseName}: ${outcome.rejected} refused, ${outcome.rendered} rendered inert`)
    })
  }

  it('the cases named in the issue are refused at their line, with a hint', () => {
    const refused: [string, string, RegExp][] = [
      ['compose-load-balanced', 'nodeRed.adminRoot', /^ff-ha\.yaml:\d+:\d+ nodeRed\.adminRoot: must be a URL path/],
      ['compose-hot-spare', 'mqtt.broker', /^ff-ha\.yaml:\d+:\d+ mqtt\.broker: must be one line/],
      ['compose-hot-spare', 'failover.leaseFile', /^ff-ha\.yaml:\d+:\d+ failover\.leaseFile: must be an absolute path .*no spaces, ":", "\$" or ";"/],
      ['kubernetes-ingress', 'kubernetes.resources.limits.memory', /^ff-ha\.yaml:\d+:\d+ kubernetes\.resources\.limits\.memory: must be a Kubernetes quantity/],
      ['kubernetes-ingress', 'kubernetes.ingress.host', /^ff-ha\.yaml:\d+:\d+ kubernetes\.ingress\.host: must be a host name/],
      ['kubernetes-ingress', 'kubernetes.ingress.className', /^ff-ha\.yaml:\d+:\d+ kubernetes\.ingress\.className: must be a DNS-1123 subdomain/],
    ]
    const values: Record<string, string> = {
      'nodeRed.adminRoot': HOSTILE_STRINGS[0],
      'mqtt.broker': HOSTILE_STRINGS[2],
      'failover.leaseFile': HOSTILE_STRINGS[4],
      'kubernetes.resources.limits.memory': 'lots',
      'kubernetes.ingress.host': HOSTILE_STRINGS[19],
      'kubernetes.ingress.className': 'nginx"x',
    }
    for (const [base, field, message] of refused) {
      let error: FfHaError | undefined
      try {
        parseProfileText(profileWith(BASES[base], field, values[field]))
      } catch (err) {
        error = err as FfHaError
      }
      expect(error, field).toBeInstanceOf(InputError)
      expect(error!.message, field).toMatch(message)
      expect(error!.hint, field).toBeTruthy()
    }
    // A leaseFile with spaces and ";" too.
    expect(() => parseProfileText(profileWith(BASES['compose-hot-spare'], 'failover.leaseFile', HOSTILE_STRINGS[5]))).toThrow(/failover\.leaseFile: must be an absolute path/)
  })

  it('free text that settings.js takes renders escaped: a flowFile with quotes, `$`, `</script>` and a backslash', () => {
    const value = `my "flows" $HOME \\ '</script>.json`
    const text = profileWith(BASES['compose-hot-spare'], 'nodeRed.flowFile', value)
    const files = renderProject({profile: parseProfileText(text), profileText: text, version: '0.1.0'})
    const line = files['node-red/settings.js'].split('\n').find(l => l.startsWith('const profile = '))!
    expect(JSON.parse(line.slice('const profile = '.length, line.lastIndexOf(' // ff-ha:profile'))).flowFile).toBe(value)
    expect(files['compose.yaml']).not.toContain('$HOME')
  })

  it('haproxy -c accepts every haproxy.cfg that rendered (HAProxy 2.6 from Debian)', async ctx => {
    const which = await execa('haproxy', ['-v'], {reject: false})
    if (which.exitCode !== 0) {
      console.warn('NOT RUN: haproxy -c on the rendered haproxy.cfg files: haproxy is not installed (apt-get install haproxy)')
      ctx.skip()
    }
    // The cases above ran first (vitest runs a file's tests in order) and collected every distinct config.
    expect(haproxyConfigs.size).toBeGreaterThan(1)
    for (const [content, what] of haproxyConfigs) {
      const file = join(tmp, 'haproxy.cfg')
      writeFileSync(file, content)
      const r = await execa('haproxy', ['-c', '-f', file], {reject: false})
      expect(r.exitCode, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0)
    }
  })
})
