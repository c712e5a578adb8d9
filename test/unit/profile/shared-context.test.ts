import {describe, expect, it} from 'vitest'
import {contextPlan} from '../../../src/model/context-storage.js'
import {settingsValuesFromProfile} from '../../../src/model/settings.js'
import {parseProfileText} from '../../../src/profile/load.js'

// nodeRed.contextStorage: the short and long forms, their defaults per target and mode, and the rules.
const parse = (yaml: string) => parseProfileText(yaml, 'ff-ha.yaml')

describe('nodeRed.contextStorage', () => {
  it('memory and localfilesystem stay as they were: no shared store, nothing new in settings.js', () => {
    const p = parse('name: shop\n')
    expect(contextPlan(p)).toEqual({default: 'memory', shared: null})
    expect(settingsValuesFromProfile(p)).not.toHaveProperty('sharedContext')
  })

  it('shared on compose hot-spare: the default store, sqlite in the lease volume, fenced, one fence per profile', () => {
    const p = parse('name: shop\nnodeRed:\n  contextStorage: shared\n')
    expect(contextPlan(p)).toEqual({
      default: 'shared',
      shared: {backend: 'sqlite', path: '/var/lib/ff-ha/context.db', connectionStringEnv: 'FF_HA_CONTEXT_DATABASE_URL', fenced: true, fenceDomain: 'shop'},
    })
  })

  it('the long form on kubernetes load-balanced: memory stays default, "shared" on PostgreSQL, not fenced', () => {
    const p = parse('name: shop\ntarget: kubernetes\nmode: load-balanced\nnodeRed:\n  contextStorage:\n    shared: {connectionStringEnv: SHOP_DB}\n')
    expect(contextPlan(p)).toMatchObject({default: 'memory', shared: {backend: 'postgres', connectionStringEnv: 'SHOP_DB', fenced: false}})
  })

  it('refuses a sqlite shared store on kubernetes, and a file in a per-replica directory, saying what to use', () => {
    expect(() => parse('name: shop\ntarget: kubernetes\nnodeRed:\n  contextStorage:\n    default: shared\n    shared: {backend: sqlite}\n')).toThrow(/ff-ha.yaml:\d+:\d+.*sqlite shared context is a file on one host/s)
    expect(() => parse('name: shop\nnodeRed:\n  contextStorage:\n    default: shared\n    shared: {path: /data/context.db}\n')).toThrow(/must not be in \/data/)
    expect(() => parse('name: shop\nnodeRed:\n  contextStorage: redis\n')).toThrow(/contextStorage/)
    expect(() => parse('name: shop\nnodeRed:\n  contextStorage:\n    shared: {connectionString: postgres://x}\n')).toThrow(/connectionString/)
  })
})
