import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {loadProfile, parseProfileText} from '../../../src/profile/load.js'
import {renderFromProfile} from '../../../src/render/run.js'

function errorOf(text: string): InputError {
  try {
    parseProfileText(text)
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error(`accepted: ${text}`)
}

// [what, profile text, the whole expected message]
const BAD: [string, string, string][] = [
  // Cross-field rules, each with its reason, at the field to change.
  ['leaseDuration must exceed renewDeadline', 'name: app\nfailover:\n  leaseDurationMs: 1000\n  renewDeadlineMs: 2000\n', 'ff-ha.yaml:3:20 failover.leaseDurationMs: must be greater than renewDeadlineMs (2000): the holder must give up before others may take over'],
  ['renewDeadline must exceed 1.2 x retryPeriod', 'name: app\nfailover:\n  renewDeadlineMs: 1500\n  retryPeriodMs: 1300\n', 'ff-ha.yaml:3:20 failover.renewDeadlineMs: must be greater than 1.2 x retryPeriodMs (1560): a renew needs time for at least one retry'],
  ['sqlite lease refused on kubernetes hot-spare', 'name: app\ntarget: kubernetes\nfailover:\n  lease: sqlite\n', 'ff-ha.yaml:4:10 failover.lease: sqlite cannot be the lease on kubernetes: a file lease cannot span nodes, so two pods could both hold it; use "kubernetes"'],
  ['kubernetes lease refused on compose', 'name: app\nfailover:\n  lease: kubernetes\n', 'ff-ha.yaml:3:10 failover.lease: a kubernetes lease needs a cluster; on compose use "sqlite"'],
  ['health timeout within the interval', 'name: app\nfailover: {healthTimeoutMs: 500, healthIntervalMs: 250}\n', 'ff-ha.yaml:2:29 failover.healthTimeoutMs: must be at most healthIntervalMs (250): checks would overlap'],
  ['status port differs from the Node-RED port', 'name: app\nfailover: {statusPort: 1880}\n', 'ff-ha.yaml:2:24 failover.statusPort: must differ from http.port (1880)'],
  ['ports a non-root user can bind', 'name: app\nhttp:\n  port: 80\n', 'ff-ha.yaml:3:9 http.port: must be 1024 or above: the replicas run as a non-root user, which cannot listen on port 80'],
  ['published stats port differs from http', 'name: app\ncompose: {ports: {http: 8080, stats: 8080}}\n', 'ff-ha.yaml:2:38 compose.ports.stats: must differ from compose.ports.http (8080): both are published on the host'],
  ['load-balanced editor needs sticky sessions', 'name: app\nmode: load-balanced\nhttp: {sticky: false}\n', 'ff-ha.yaml:3:16 http.sticky: the editor needs sticky sessions when load-balanced (its comms websocket and session live on one replica); set sticky: true or editor: false'],
  ['TLS needs an ingress host', 'name: app\ntarget: kubernetes\nkubernetes:\n  ingress:\n    tlsSecret: x\n', 'ff-ha.yaml:5:16 kubernetes.ingress.tlsSecret: needs kubernetes.ingress.host: TLS is for a host'],
  ['bundled broker is compose only', 'name: app\ntarget: kubernetes\nmqtt: {bundled: true}\n', 'ff-ha.yaml:3:17 mqtt.bundled: a bundled broker is rendered for compose only; on kubernetes set mqtt.broker to your broker'],
  ['settings that HA depends on cannot be overridden', 'name: app\nnodeRed:\n  settings:\n    apiMaxLength: 5mb\n    runtimeState: {enabled: false}\n', 'ff-ha.yaml:5:19 nodeRed.settings.runtimeState: is set by ff-ha and cannot be overridden: the agent starts and stops flows through the runtime state API'],
  ['static discovery needs replicas', 'name: app\ndeploy: {discovery: static}\n', 'ff-ha.yaml:2:9 deploy.replicas: static discovery needs a list of replicas ({name, url})'],
  ['a rule about a field left to its default points at the field written', 'name: app\nfailover:\n  renewDeadlineMs: 5000\n', 'ff-ha.yaml:3:20 failover.leaseDurationMs: must be greater than renewDeadlineMs (5000): the holder must give up before others may take over (leaseDurationMs is not set: its default is 2000)'],
  // Unknown keys, with a did-you-mean.
  ['unknown top-level key', 'name: app\nreplica: 3\n', 'ff-ha.yaml:2:1 replica: unknown key (did you mean "replicas"?)'],
  ['unknown nested key', 'name: app\nhttp:\n  port: 1880\n  stiky: true\n', 'ff-ha.yaml:4:3 http.stiky: unknown key (did you mean "sticky"?)'],
  ['unknown key in a flow mapping', 'name: app\nkubernetes: {ingres: {host: a}}\n', 'ff-ha.yaml:2:14 kubernetes.ingres: unknown key (did you mean "ingress"?)'],
  ['unknown key with nothing close', 'name: app\nslo: {zzz: 1}\n', 'ff-ha.yaml:2:7 slo.zzz: unknown key (known: maxMttrMs, maxLostMessages, maxDualActiveMs)'],
  // Wrong types and values.
  ['a string for a number', 'name: app\nreplicas: two\n', 'ff-ha.yaml:2:11 replicas: must be a number, not string "two"'],
  ['a list for a mapping', 'name: app\nhttp: [1880]\n', 'ff-ha.yaml:2:7 http: must be a mapping, not a list'],
  ['a number for a mapping', 'name: app\nnodeRed: {settings: 3}\n', 'ff-ha.yaml:2:21 nodeRed.settings: must be a mapping, not number 3'],
  ['a bool for a number, nested', 'name: app\nfailover:\n  retryPeriodMs: true\n', 'ff-ha.yaml:3:18 failover.retryPeriodMs: must be a number, not boolean true'],
  ['one replica', 'name: app\nreplicas: 1\n', 'ff-ha.yaml:2:11 replicas: must be at least 2 (HA needs a second replica)'],
  ['unknown mode', 'name: app\nmode: active-active\n', 'ff-ha.yaml:2:7 mode: must be one of "hot-spare", "load-balanced"'],
  ['name not a DNS label', 'name: Orders_1\n', 'ff-ha.yaml:1:7 name: must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit'],
  ['name missing', 'mode: hot-spare\n', 'ff-ha.yaml:1:1 name: is required'],
  ['not a mapping', '- a\n', 'ff-ha.yaml:1:1 the profile must be a YAML mapping (name: ..., mode: ...)'],
  ['duplicate key', 'name: app\nname: b\n', 'ff-ha.yaml:2:1 Map keys must be unique'],
  // YAML aliases: a user's mistake or an alias bomb, never an internal error.
  ['an alias with no anchor', 'name: *nope\n', 'ff-ha.yaml:1:7 unresolved alias *nope: no anchor &nope before it'],
  ['an alias bomb', 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: app\n', 'ff-ha.yaml:2:8 too many aliases: the anchors and aliases expand past 100 values (an alias bomb?)'],
  ['a __proto__ key', 'name: app\nnodeRed: {settings: {__proto__: {x: 1}}}\n', 'ff-ha.yaml:2:22 __proto__: is not a valid key'],
  // Numbers JavaScript cannot hold: say what is wrong with them.
  ['a number too large to be finite', 'name: app\nreplicas: 1e400\n', 'ff-ha.yaml:2:11 replicas: 1e400 is not a finite number'],
  ['not a number', 'name: app\nfailover: {statusPort: .nan}\n', 'ff-ha.yaml:2:24 failover.statusPort: .nan is not a finite number'],
  ['an integer past 2^53', 'name: app\nreplicas: 99999999999999999999\n', 'ff-ha.yaml:2:11 replicas: 99999999999999999999 is too large'],
  ['too many replicas', 'name: app\nreplicas: 21\n', 'ff-ha.yaml:2:11 replicas: must be at most 20'],
  ['binary data in settings', 'name: app\nnodeRed: {settings: {b: !!binary aGVsbG8=}}\n', 'ff-ha.yaml:2:34 nodeRed.settings.b: must be JSON data (text, a number, true/false, null, a list or a mapping), not binary data'],
  ['a lease file in the userDir', 'name: app\nfailover: {leaseFile: /data/lease.db}\n', 'ff-ha.yaml:2:23 failover.leaseFile: must not be under /data: its directory becomes a volume shared by all replicas, and that directory belongs to each replica or to the image'],
  ['a lease file in /', 'name: app\nfailover: {leaseFile: /lease.db}\n', 'ff-ha.yaml:2:23 failover.leaseFile: must be in a directory, not in /: its directory is the volume that all replicas share'],
  ['a name too long for a StatefulSet', `name: ${'a'.repeat(53)}\n`, 'ff-ha.yaml:1:7 name: must be at most 52 characters: Kubernetes labels the pods <name>-<revision hash>, at most 63'],
]

describe('bad profiles: one line, file:line:col, the path, what to change', () => {
  for (const [what, text, message] of BAD) {
    it(what, () => {
      const err = errorOf(text)
      expect(err.message).toBe(message)
      expect(err.exitCode).toBe(2)
      // Every profile error says what to do next.
      expect(err.hint, 'a hint').toMatch(/\w{3}/)
    })
  }

  it('a good profile with every section parses, and derived defaults are filled in', () => {
    const p = parseProfileText('name: app\ntarget: kubernetes\nmode: load-balanced\n')
    expect(p.failover.lease).toBe('kubernetes')
    expect(p.failover.leaseDurationMs).toBe(15000)
    expect(p.mqtt.shareGroup).toBe('app')
    expect(p.secrets.kubernetesSecret).toBe('app-secrets')
  })
})

describe('render writes nothing for a bad profile', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach(d => rmSync(d, {recursive: true, force: true})))

  for (const [what, text, message] of BAD.filter(([what]) => ['leaseDuration must exceed renewDeadline', 'sqlite lease refused on kubernetes hot-spare', 'unknown nested key', 'a string for a number', 'settings that HA depends on cannot be overridden'].includes(what))) {
    it(what, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bad-'))
      dirs.push(dir)
      const profileFile = join(dir, 'ff-ha.yaml')
      writeFileSync(profileFile, text)
      expect(() => renderFromProfile({profileFile, outDir: join(dir, 'deploy')})).toThrow(message.replace('ff-ha.yaml', profileFile))
      expect(readdirSync(dir)).toEqual(['ff-ha.yaml'])
    })
  }

  it('a device, a huge file or a directory as the profile: refused with a hint, never read whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-big-'))
    dirs.push(dir)
    const big = join(dir, 'big.yaml')
    writeFileSync(big, `name: app\n${'# padding\n'.repeat(120_000)}`)
    for (const [file, message] of [['/dev/zero', '/dev/zero: is larger than 1024 KiB: not a profile'], [big, `${big}: is larger than 1024 KiB: not a profile`], [dir, `${dir}: is a directory, not a profile`]]) {
      let error: InputError | undefined
      try {
        loadProfile(file)
      } catch (err) {
        error = err as InputError
      }
      expect(error).toBeInstanceOf(InputError)
      expect(error!.message).toBe(message)
      expect(error!.hint).toBeTruthy()
    }
  })

  it('a missing profile file says how to make one', () => {
    expect(() => loadProfile('/nonexistent/ff-ha.yaml')).toThrow('/nonexistent/ff-ha.yaml: no such file')
    expect(existsSync('/nonexistent')).toBe(false)
  })
})
