import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {drainMs, prepareSettings, resolveAgentConfig} from '../../../src/agent/config.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {InputError} from '../../../src/errors.js'
import {redact} from '../../../src/output/secrets.js'

type AgentInputLike = Parameters<typeof resolveAgentConfig>[0]

const secrets = {FF_HA_ADMIN_TOKEN: 'admin-token-abcdef', FF_HA_CREDENTIAL_SECRET: 'cred-secret-abcdef'}

describe('agent config: flags, environment, profile', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ff-ha-agent-config-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('with no --profile and no ff-ha.yaml, uses the built-in hot-spare profile on sqlite with the local timings', () => {
    const c = resolveAgentConfig({replica: 'a'}, {...secrets}, dir)
    expect(c.profileSource).toBe('built-in')
    expect(c.profile.name).toBe('ff-ha')
    expect(c.mode).toBe('hot-spare')
    expect(c.lease).toEqual({backend: 'sqlite', file: '/var/lib/ff-ha/lease.db', name: 'ff-ha-leader', namespace: 'default'})
    expect(c.timings).toEqual({leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200, healthIntervalMs: 250, healthTimeoutMs: 200, healthFailureThreshold: 3})
    expect(c).toMatchObject({userDir: '/data', nodeRedPort: 1880, statusPort: 9880, statusHost: '127.0.0.1', settingsFile: '/data/settings.js', nodeRedHost: '0.0.0.0'})
    expect(c.stopBoundMs).toBe(250)
    expect(c.drainMs).toBe(0)
  })

  it('load-balanced: drains for 3 proxy check intervals + 100 ms, at least 300 ms, at most 5 s; hot-spare never', () => {
    const lb = (mttr: number) => parseProfileText(`name: x\nmode: load-balanced\nslo:\n  maxMttrMs: ${mttr}\n`, 'ff-ha.yaml')
    expect(drainMs(lb(5000))).toBe(400) // check interval 100 ms
    expect(drainMs(lb(15000))).toBe(1000) // 300 ms
    expect(drainMs(lb(600000))).toBe(5000) // 2 s, capped
    expect(drainMs(parseProfileText('name: x\nmode: hot-spare\n', 'ff-ha.yaml'))).toBe(0)
  })

  it('reads every flag from the environment, and ff-ha.yaml from the working directory', () => {
    writeFileSync(join(dir, 'ff-ha.yaml'), 'name: plant\nmode: load-balanced\nfailover:\n  witness: gw:1883\nsecrets:\n  adminTokenEnv: PLANT_TOKEN\n')
    const c = resolveAgentConfig({}, {
      PLANT_TOKEN: 'plant-token-123456',
      FF_HA_CREDENTIAL_SECRET: 'x-secret-123456',
      FF_HA_REPLICA: 'r2',
      FF_HA_USER_DIR: 'ud',
      FF_HA_NODE_RED_PORT: '1999',
      FF_HA_STATUS_PORT: '9999',
      FF_HA_STATUS_HOST: '127.0.0.1',
      FF_HA_LEASE_FILE: 'l.db',
    }, dir)
    expect(c).toMatchObject({replica: 'r2', mode: 'load-balanced', profileSource: 'ff-ha.yaml', userDir: join(dir, 'ud'), nodeRedPort: 1999, statusPort: 9999, statusHost: '127.0.0.1', witness: 'gw:1883', adminToken: 'plant-token-123456'})
    expect(c.lease).toMatchObject({backend: 'sqlite', file: join(dir, 'l.db')})
  })

  it('refuses to start without the admin token or the credential secret, naming the variable, never a value', () => {
    expect(() => resolveAgentConfig({replica: 'a'}, {FF_HA_CREDENTIAL_SECRET: 'cred-secret-abcdef'}, dir)).toThrow(/FF_HA_ADMIN_TOKEN is not set/)
    try {
      resolveAgentConfig({replica: 'a'}, {FF_HA_ADMIN_TOKEN: 'admin-token-abcdef'}, dir)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(InputError)
      expect((err as Error).message).toMatch(/FF_HA_CREDENTIAL_SECRET is not set/)
      expect((err as Error).message).not.toContain('admin-token-abcdef')
    }
  })

  it('needs a replica name and a sane one', () => {
    expect(() => resolveAgentConfig({}, {...secrets}, dir)).toThrow(/--replica is required/)
    expect(() => resolveAgentConfig({replica: 'a b'}, {...secrets}, dir)).toThrow(/use letters, digits/)
  })

  it('renders settings.js into the userDir when there is none, and keeps a mounted one', () => {
    const c = resolveAgentConfig({replica: 'a', userDir: join(dir, 'ud')}, {...secrets}, dir)
    expect(prepareSettings(c)).toEqual({rendered: true})
    expect(readFileSync(c.settingsFile, 'utf8')).toMatch(/runtimeState: \{enabled: true/)
    writeFileSync(c.settingsFile, '// mounted\nmodule.exports = {}\n')
    expect(prepareSettings(c)).toEqual({rendered: false})
    expect(readFileSync(c.settingsFile, 'utf8')).toMatch(/mounted/)
  })

  it('refuses a --settings file that does not exist', () => {
    expect(() => resolveAgentConfig({replica: 'a', settings: 'nope.js'}, {...secrets}, dir)).toThrow(/--settings nope.js: no such file/)
  })

  it('--status-host: a bad address is an input error that points at the address, not at the port', () => {
    for (const [value, hint] of [
      ['not a host', /IP address such as 127.0.0.1/],
      ['http://0.0.0.0', /IP address such as 127.0.0.1/],
      ['127.0.0.1:9880', /give the address alone \(--status-host 127.0.0.1\)/],
    ] as const) {
      try {
        resolveAgentConfig({replica: 'a', statusHost: value}, {...secrets}, dir)
        expect.unreachable()
      } catch (err) {
        expect(err).toBeInstanceOf(InputError)
        expect((err as InputError).message).toBe(`--status-host ${JSON.stringify(value)}: not an IP address or host name`)
        expect((err as InputError).hint).toMatch(hint)
        expect((err as InputError).hint).not.toMatch(/--status-port/)
      }
    }
    for (const ok of ['0.0.0.0', '::', '10.1.2.3', 'localhost', 'node-red-0.svc']) expect(resolveAgentConfig({replica: 'a', statusHost: ok}, {...secrets}, dir).statusHost).toBe(ok)
    expect(() => resolveAgentConfig({replica: 'a'}, {...secrets, FF_HA_NODE_RED_HOST: 'a b'}, dir)).toThrow(/FF_HA_NODE_RED_HOST "a b": not an IP address/)
  })

  it('every bad flag or variable has a hint', () => {
    const cases: Array<[AgentInputLike, Record<string, string>]> = [
      [{replica: 'a b'}, {}],
      [{replica: 'a'}, {FF_HA_STATUS_PORT: 'x'}],
      [{replica: 'a', statusPort: 1880}, {}],
      [{replica: 'a', settings: 'nope.js'}, {}],
      [{}, {}],
    ]
    for (const [input, env] of cases) {
      try {
        resolveAgentConfig(input, {...secrets, ...env}, dir)
        expect.unreachable()
      } catch (err) {
        expect(err, JSON.stringify(input)).toBeInstanceOf(InputError)
        expect((err as InputError).hint, (err as Error).message).toBeTruthy()
      }
    }
  })

  it('the status token: read from secrets.statusTokenEnv, registered as a secret, and not passed to Node-RED', () => {
    const c = resolveAgentConfig({replica: 'a'}, {...secrets, FF_HA_STATUS_TOKEN: 'status-token-abcdef'}, dir)
    expect(c.statusToken).toBe('status-token-abcdef')
    expect(c.env.FF_HA_STATUS_TOKEN).toBeUndefined()
    expect(redact('x status-token-abcdef y')).toBe('x *** y')
    // Node-RED needs the admin token and the credential secret: its settings.js reads them, then deletes them.
    expect(c.env.FF_HA_ADMIN_TOKEN).toBe(secrets.FF_HA_ADMIN_TOKEN)
    expect(resolveAgentConfig({replica: 'a'}, {...secrets}, dir).statusToken).toBeUndefined()
  })
})
