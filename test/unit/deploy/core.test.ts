// The pure parts of a deploy: the rev Node-RED will compute, the dry-run diff, the order of waves, roles
// and the preflight refusals, credentials and auth from the environment.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {FlowNode} from '../../../src/admin/types.js'
import {resolveAuth} from '../../../src/deploy/auth.js'
import {checkCredentialsMatchFlows, readCredentialsFile} from '../../../src/deploy/credentials.js'
import {diffFlows} from '../../../src/deploy/diff.js'
import {activesProblem, expectedStates, preflightProblem, roleOf, type Preflight} from '../../../src/deploy/preflight.js'
import {flowsRev} from '../../../src/deploy/rev.js'
import {planWaves} from '../../../src/deploy/strategy.js'
import {formatDeployReport} from '../../../src/deploy/summary.js'
import {InputError} from '../../../src/errors.js'
import {redact} from '../../../src/output/secrets.js'

const pre = (state: Preflight['state'], extra: Partial<Preflight> = {}): Preflight => ({rev: 'r', flows: [], state, stateApiEnabled: true, ...extra})

describe('flowsRev', () => {
  it('is sha256 of the flows without node credentials, as Node-RED computes it', () => {
    // The empty flows' rev that every fresh Node-RED 4.1 / 5.0 reports (seen in the integration tests).
    expect(flowsRev([])).toBe('4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945')
    const withCreds = [{id: 'b', type: 'mqtt-broker', broker: 'x', credentials: {user: 'u'}}]
    expect(flowsRev(withCreds)).toBe(flowsRev([{id: 'b', type: 'mqtt-broker', broker: 'x'}]))
    expect(withCreds[0].credentials).toEqual({user: 'u'})
  })
})

describe('diffFlows', () => {
  it('lists added, removed and changed nodes by id, ignoring key order and credentials', () => {
    const before: FlowNode[] = [{id: 't', type: 'tab', label: 'Main'}, {id: 'a', type: 'inject', name: 'tick', repeat: '5', z: 't'}, {id: 'gone', type: 'debug', z: 't'}]
    const after: FlowNode[] = [{label: 'Main', type: 'tab', id: 't', credentials: {}}, {id: 'a', type: 'inject', name: 'tick', repeat: '10', z: 't'}, {id: 'new', type: 'function', z: 't'}]
    expect(diffFlows(before, after)).toEqual({
      added: [{id: 'new', type: 'function'}],
      removed: [{id: 'gone', type: 'debug'}],
      changed: [{id: 'a', type: 'inject', name: 'tick'}],
    })
  })
})

describe('planWaves', () => {
  const r = (name: string, role: 'active' | 'spare' | 'member') => ({name, role})
  it('hot-spare: the spares first (together, or one at a time when rolling), the active last', () => {
    const list = [r('a', 'active'), r('b', 'spare'), r('c', 'spare')]
    expect(planWaves(list, 'hot-spare', 'parallel').map(w => w.map(x => x.name))).toEqual([['b', 'c'], ['a']])
    expect(planWaves(list, 'hot-spare', 'rolling').map(w => w.map(x => x.name))).toEqual([['b'], ['c'], ['a']])
  })
  it('load-balanced: rolling waves of max-unavailable, or all at once', () => {
    const list = [r('a', 'member'), r('b', 'member'), r('c', 'member')]
    expect(planWaves(list, 'load-balanced', 'rolling', 2).map(w => w.map(x => x.name))).toEqual([['a', 'b'], ['c']])
    expect(planWaves(list, 'load-balanced', 'parallel').map(w => w.length)).toEqual([3])
  })
})

describe('roles and preflight refusals', () => {
  it('takes the role from the agent when there is one, else from the flows state', () => {
    expect(roleOf('hot-spare', pre('start'))).toBe('active')
    expect(roleOf('hot-spare', pre('stop'))).toBe('spare')
    expect(roleOf('hot-spare', pre('stop', {agentRole: 'active'}))).toBe('active')
    expect(roleOf('hot-spare', pre('stop', {agentRole: 'fenced'}))).toBe('spare')
    expect(roleOf('load-balanced', pre('stop'))).toBe('member')
  })
  it('a spare must be stopped after; others keep their state, and safe mode becomes start', () => {
    expect(expectedStates('spare', pre('stop'))).toEqual(['stop'])
    expect(expectedStates('active', pre('start'))).toEqual(['start'])
    expect(expectedStates('member', pre('safe'))).toEqual(['start'])
  })
  it('refuses a safe-mode spare, a disabled state API, a spare whose flows run, two actives', () => {
    expect(preflightProblem('hot-spare', 'spare', pre('safe'))).toMatch(/spare in safe mode.*a deploy would start its flows; restart it without --safe/)
    expect(preflightProblem('hot-spare', 'spare', pre('stop', {stateApiEnabled: false}))).toMatch(/runtimeState: \{enabled: true\}/)
    expect(preflightProblem('hot-spare', 'spare', pre('start', {agentRole: 'spare'}))).toMatch(/two replicas may be active/)
    expect(preflightProblem('load-balanced', 'member', pre('safe'))).toBeUndefined()
    expect(activesProblem('hot-spare', ['a', 'b'])).toMatch(/2 replicas run flows \(a, b\), at most one may/)
    expect(activesProblem('load-balanced', ['a', 'b'])).toBeUndefined()
  })
})

describe('credentials and auth', () => {
  it('reads plaintext credentials, registers them as secrets, refuses the encrypted blob and unknown ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-creds-'))
    try {
      const file = join(dir, 'creds.json')
      writeFileSync(file, JSON.stringify({broker: {user: 'bob', password: 'hunter2-secret'}}))
      const creds = readCredentialsFile(file)
      expect(creds.broker.user).toBe('bob')
      expect(redact('password is hunter2-secret')).toBe('password is ***')
      expect(() => checkCredentialsMatchFlows(creds, [{id: 'other', type: 'tab'}])).toThrow('credentials for node "broker" not in the flows file')
      writeFileSync(file, JSON.stringify({$: 'a1b2c3encrypted'}))
      expect(() => readCredentialsFile(file)).toThrow(/encrypted credentials blob.*not write it to disk/)
      writeFileSync(file, '{"broker": {"password": "half')
      const err = (() => {
        try {
          readCredentialsFile(file)
        } catch (e) {
          return e as Error
        }
      })()
      expect(err).toBeInstanceOf(InputError)
      expect(err!.message).toBe(`${file}: not JSON`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('takes the token or the password from the environment only, and says which variable is missing', () => {
    expect(resolveAuth({env: {FF_HA_ADMIN_TOKEN: 'tok-abcdef'}})).toEqual({token: 'tok-abcdef'})
    expect(resolveAuth({tokenEnv: 'MY_TOKEN', env: {MY_TOKEN: 'tok-xyz123'}})).toEqual({token: 'tok-xyz123'})
    expect(() => resolveAuth({env: {}})).toThrow('FF_HA_ADMIN_TOKEN is not set: the admin API needs the shared admin token')
    expect(resolveAuth({username: 'admin', env: {FF_HA_ADMIN_PASSWORD: 'pw-123456'}})).toEqual({username: 'admin', password: 'pw-123456'})
    expect(() => resolveAuth({username: 'admin', env: {}})).toThrow('--username admin: FF_HA_ADMIN_PASSWORD is not set')
    expect(redact('tok-xyz123 pw-123456')).toBe('*** ***')
  })
})

describe('formatDeployReport', () => {
  it('prints one row per replica and the verdict', () => {
    const text = formatDeployReport({
      rev: 'abcdef0123', durationMs: 90, ok: true, mode: 'hot-spare', strategy: 'parallel', dryRun: false,
      replicas: [
        {name: 'a', url: 'http://a/', role: 'active', before: {rev: '11111111aa', state: 'start'}, after: {rev: 'abcdef0123', state: 'start'}, status: 'deployed', durationMs: 20},
        {name: 'b', url: 'http://b/', role: 'spare', before: {rev: '11111111aa', state: 'stop'}, after: {rev: 'abcdef0123', state: 'stop'}, status: 'deployed', durationMs: 15},
      ],
    })
    expect(text).toBe([
      'REPLICA  ROLE    BEFORE          AFTER           STATUS    TIME',
      'a        active  11111111 start  abcdef01 start  deployed  20 ms',
      'b        spare   11111111 stop   abcdef01 stop   deployed  15 ms',
      'rev abcdef01 on 2 of 2 replicas (hot-spare, parallel) in 90 ms',
    ].join('\n'))
  })
})
