import {describe, expect, it} from 'vitest'
import {etcdDeadlines, etcdLeaseBackend} from '../../../src/agent/lease/backends/etcd.js'
import {InputError} from '../../../src/errors.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {leaseTimingProblems} from '../../../src/agent/lease/machine.js'

// The etcd lease backend's profile fields, checks, agent options and render pieces (no process: the store
// itself is tested on a real etcd in test/integration/lease/etcd*.test.ts).

function errorOf(text: string): InputError {
  try {
    parseProfileText(text)
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error(`accepted: ${text}`)
}

const profile = (etcd: string, target = 'compose') => `name: app\ntarget: ${target}\nfailover:\n  lease: etcd\n  etcd:\n${etcd}`

describe('etcd lease: the profile', () => {
  it('defaults: prefix /ff-ha/, no endpoints, no TLS, no credentials; the backend\'s timings keep the invariants', () => {
    const p = parseProfileText(profile('    endpoints: [http://10.0.0.5:2379]\n'))
    expect(p.failover.etcd).toEqual({endpoints: ['http://10.0.0.5:2379'], prefix: '/ff-ha/'})
    expect(p.failover).toMatchObject({lease: 'etcd', leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250})
    expect(leaseTimingProblems(etcdLeaseBackend.defaultTimings)).toEqual([])
    // Another backend's profile carries the same (empty) section, so readers need no special case.
    expect(parseProfileText('name: app\n').failover.etcd).toEqual({endpoints: [], prefix: '/ff-ha/'})
  })

  // [what, the etcd section, the whole message, the hint]
  const BAD: [string, string, string, RegExp][] = [
    ['no scheme', '    endpoints: [10.0.0.5:2379]\n', 'ff-ha.yaml:6:17 failover.etcd.endpoints.0: has no scheme: write http://10.0.0.5:2379 (or https:// for TLS)', /^for example: - http:\/\/10.0.0.5:2379$/],
    ['not a URL', '    endpoints: ["http://"]\n', 'ff-ha.yaml:6:17 failover.etcd.endpoints.0: is not a URL: write it like http://10.0.0.5:2379 (the scheme, the host and the client port)', /http:\/\/10.0.0.5:2379/],
    ['a password in the URL', '    endpoints:\n      - http://10.0.0.5:2379\n      - http://root:secret@10.0.0.6:2379\n', 'ff-ha.yaml:8:9 failover.etcd.endpoints.1: must not hold a user name or password: name the environment variables that hold them in failover.etcd.usernameEnv and passwordEnv', /10.0.0.5:2379/],
    ['a path', '    endpoints: [http://10.0.0.5:2379/v3]\n', 'ff-ha.yaml:6:17 failover.etcd.endpoints.0: must be the member\'s base URL, without a path, query or fragment, like http://10.0.0.5:2379', /./],
    ['grpc scheme', '    endpoints: [grpc://10.0.0.5:2379]\n', 'ff-ha.yaml:6:17 failover.etcd.endpoints.0: must be an http or https URL like http://10.0.0.5:2379, not grpc://', /./],
    ['no endpoint', '    prefix: /x/\n', 'ff-ha.yaml:6:5 failover.etcd.endpoints: the etcd lease needs at least one etcd member (better three: one per host)', /failover.etcd.endpoints: \[http/],
    ['an endpoint twice', '    endpoints: [http://a:2379, http://a:2379/]\n', 'ff-ha.yaml:6:32 failover.etcd.endpoints.1: http://a:2379/ is listed twice', /once/],
    ['http and https mixed', '    endpoints: [http://a:2379, https://b:2379]\n', 'ff-ha.yaml:6:16 failover.etcd.endpoints: mixes http and https: the members of one cluster serve clients one way', /https/],
    ['a certificate without its key', '    endpoints: [https://a:2379]\n    tls: {certFile: /etc/c.crt}\n', 'failover.etcd.tls.keyFile: a client certificate needs its key, and a key its certificate', /certFile and tls.keyFile/],
    ['a user name without a password', '    endpoints: [http://a:2379]\n    usernameEnv: ETCD_USERNAME\n', 'failover.etcd.passwordEnv: etcd auth needs both a user name and a password variable', /variable names/],
    ['a password value instead of a name', '    endpoints: [http://a:2379]\n    usernameEnv: ETCD_USERNAME\n    passwordEnv: hunter2\n', 'ff-ha.yaml:8:18 failover.etcd.passwordEnv: must be an environment variable name', /ETCD_PASSWORD/],
    ['a relative TLS path', '    endpoints: [https://a:2379]\n    tls: {caFile: ca.crt}\n', 'ff-ha.yaml:7:19 failover.etcd.tls.caFile: must be an absolute path', /\/etc\/ff-ha\/etcd\/ca.crt/],
    ['a prefix without its final slash', '    endpoints: [http://a:2379]\n    prefix: /plant\n', 'ff-ha.yaml:7:13 failover.etcd.prefix: must be printable ASCII without spaces, ending in "/", like /ff-ha/', /prefix: \/ff-ha\//],
    ['an unknown key', '    endpoint: [http://a:2379]\n', 'failover.etcd.endpoint: unknown key (did you mean "endpoints"?)', /endpoints/],
  ]
  for (const [what, section, message, hint] of BAD) {
    it(`refuses ${what}: one line with file:line:col and a hint`, () => {
      const err = errorOf(profile(section))
      expect(err.exitCode).toBe(2)
      expect(err.message).toContain(message)
      expect(err.message).not.toContain('\n')
      expect(err.hint).toMatch(hint)
      expect(err.message + (err.hint ?? '')).not.toContain('secret@')
    })
  }

  it('serves compose and kubernetes, on neither by default', () => {
    expect(etcdLeaseBackend.targets).toEqual(['compose', 'kubernetes'])
    expect(etcdLeaseBackend.defaultFor).toBeNull()
    expect(parseProfileText(profile('    endpoints: [http://a:2379]\n', 'kubernetes')).failover.lease).toBe('etcd')
  })
})

describe('etcd lease: the agent\'s options', () => {
  const p = parseProfileText(profile('    endpoints: [https://a:2379, https://b:2379]\n    usernameEnv: ETCD_USERNAME\n    passwordEnv: ETCD_PASSWORD\n    tls: {caFile: /etc/ca.crt}\n'))

  it('come from the profile, the environment overrides endpoints, prefix and TLS files; deadlines follow renewDeadline', () => {
    const env = {ETCD_USERNAME: 'ffha', ETCD_PASSWORD: 'pa55word'}
    expect(etcdLeaseBackend.options({profile: p, env, cwd: '/'})).toEqual({
      endpoints: ['https://a:2379', 'https://b:2379'],
      prefix: '/ff-ha/',
      tls: {caFile: '/etc/ca.crt'},
      auth: {username: 'ffha', password: 'pa55word'},
      operationTimeoutMs: 500,
      attemptTimeoutMs: 250,
    })
    const over = etcdLeaseBackend.options({profile: p, env: {...env, FF_HA_ETCD_ENDPOINTS: 'https://c:2379, https://d:2379', FF_HA_ETCD_PREFIX: '/other/', FF_HA_ETCD_CERT_FILE: '/c.crt', FF_HA_ETCD_KEY_FILE: '/c.key'}, cwd: '/'})
    expect(over).toMatchObject({endpoints: ['https://c:2379', 'https://d:2379'], prefix: '/other/', tls: {caFile: '/etc/ca.crt', certFile: '/c.crt', keyFile: '/c.key'}})
    expect(etcdDeadlines(10_000)).toEqual({operationTimeoutMs: 3333, attemptTimeoutMs: 1666})
    expect(etcdDeadlines(300)).toEqual({operationTimeoutMs: 200, attemptTimeoutMs: 100})
  })

  it('a credential variable that is not set, or a malformed endpoint in the environment: InputError naming it, with a hint', () => {
    const unset = (() => {
      try {
        etcdLeaseBackend.options({profile: p, env: {ETCD_USERNAME: 'ffha'}, cwd: '/'})
      } catch (err) {
        return err as InputError
      }
    })()
    expect(unset).toBeInstanceOf(InputError)
    expect(unset?.message).toBe('ETCD_PASSWORD is not set: the etcd lease logs in to etcd with it (failover.etcd.passwordEnv)')
    expect(unset?.hint).toMatch(/export ETCD_PASSWORD=/)
    expect(() => etcdLeaseBackend.options({profile: p, env: {ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p', FF_HA_ETCD_ENDPOINTS: 'http://a:2379,b:2379'}, cwd: '/'})).toThrow(
      'FF_HA_ETCD_ENDPOINTS: "b:2379" has no scheme: write http://b:2379 (or https:// for TLS)',
    )
    expect(() => etcdLeaseBackend.options({profile: p, env: {ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p', FF_HA_ETCD_PREFIX: 'two words/'}, cwd: '/'})).toThrow(
      'FF_HA_ETCD_PREFIX: "two words/" must be printable ASCII without spaces, ending in "/", like /ff-ha/',
    )
  })
})

describe('etcd lease: render pieces', () => {
  const p = parseProfileText(profile('    endpoints: [https://a:2379, https://b:2379]\n    prefix: /plant/\n    usernameEnv: ETCD_USERNAME\n    passwordEnv: ETCD_PASSWORD\n    tls: {caFile: /etc/ca.crt, certFile: /etc/c.crt, keyFile: /etc/c.key}\n'))

  it('compose: the endpoints, prefix and TLS paths as values, the credentials by name only (required at up); no volume', () => {
    expect(etcdLeaseBackend.render.compose!(p)).toEqual({
      environment: {
        FF_HA_ETCD_ENDPOINTS: 'https://a:2379,https://b:2379',
        FF_HA_ETCD_PREFIX: '/plant/',
        FF_HA_ETCD_CA_FILE: '/etc/ca.crt',
        FF_HA_ETCD_CERT_FILE: '/etc/c.crt',
        FF_HA_ETCD_KEY_FILE: '/etc/c.key',
        ETCD_USERNAME: '${ETCD_USERNAME:?set ETCD_USERNAME for the etcd lease, e.g. in .env beside compose.yaml}',
        ETCD_PASSWORD: '${ETCD_PASSWORD:?set ETCD_PASSWORD for the etcd lease, e.g. in .env beside compose.yaml}',
      },
      volumes: [],
    })
  })

  it('kubernetes: the same values, the credentials from the profile\'s Secret; no RBAC', () => {
    expect(etcdLeaseBackend.render.kubernetes!(p)).toEqual({
      env: [
        {name: 'FF_HA_ETCD_ENDPOINTS', value: 'https://a:2379,https://b:2379'},
        {name: 'FF_HA_ETCD_PREFIX', value: '/plant/'},
        {name: 'FF_HA_ETCD_CA_FILE', value: '/etc/ca.crt'},
        {name: 'FF_HA_ETCD_CERT_FILE', value: '/etc/c.crt'},
        {name: 'FF_HA_ETCD_KEY_FILE', value: '/etc/c.key'},
        {name: 'ETCD_USERNAME', secretKey: 'etcd-username'},
        {name: 'ETCD_PASSWORD', secretKey: 'etcd-password'},
      ],
      rbac: null,
    })
  })
})

describe('etcd lease: the rendered files', () => {
  it('compose: every replica gets the etcd environment and no lease volume', async () => {
    const {composeProject} = await import('../../../src/render/compose.js')
    const p = parseProfileText(profile('    endpoints: [http://10.0.0.5:2379, http://10.0.0.6:2379]\n'))
    const project = composeProject(p, '0.0.0') as {services: Record<string, {environment?: Record<string, string>; volumes?: unknown[]}>; volumes?: Record<string, unknown>}
    const replicas = Object.entries(project.services).filter(([name]) => name.startsWith('app-'))
    expect(replicas.length).toBeGreaterThan(1)
    for (const [, service] of replicas) expect(service.environment).toMatchObject({FF_HA_ETCD_ENDPOINTS: 'http://10.0.0.5:2379,http://10.0.0.6:2379', FF_HA_ETCD_PREFIX: '/ff-ha/'})
    expect(JSON.stringify(project)).not.toContain('FF_HA_LEASE_FILE')
    expect(Object.keys(project.volumes ?? {})).not.toContain('lease')
  })

  it('kubernetes: the etcd env in the pod, the credentials from the Secret, no Lease Role', async () => {
    const {kubernetesObjects} = await import('../../../src/render/kubernetes.js')
    const p = parseProfileText(profile('    endpoints: [http://10.0.0.5:2379]\n    usernameEnv: ETCD_USERNAME\n    passwordEnv: ETCD_PASSWORD\n', 'kubernetes'))
    const objects = kubernetesObjects(p, '0.0.0')
    const text = JSON.stringify(objects)
    expect(text).toContain('{"name":"FF_HA_ETCD_ENDPOINTS","value":"http://10.0.0.5:2379"}')
    expect(text).toContain(`{"name":"ETCD_PASSWORD","valueFrom":{"secretKeyRef":{"name":"app-secrets","key":"etcd-password"}}}`)
    expect(Object.keys(objects).filter(f => /role/i.test(f))).toEqual([])
  })
})
