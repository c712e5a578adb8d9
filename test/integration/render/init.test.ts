import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {loadProfile} from '../../../src/profile/load.js'
import {initProject} from '../../../src/render/init.js'
import type {InitChoices} from '../../../src/profile/template.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-init-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const choices = (over: Partial<InitChoices> = {}): InitChoices => ({name: 'orders', target: 'compose', mode: 'hot-spare', replicas: 2, flows: 'flows.json', ...over})
const init = (over: Partial<InitChoices> = {}, force = false) =>
  initProject({choices: choices(over), profileFile: join(dir, 'ff-ha.yaml'), outDir: join(dir, 'deploy'), force})

describe('initProject', () => {
  for (const c of [
    {target: 'compose', mode: 'hot-spare', broker: 'bundled'},
    {target: 'compose', mode: 'load-balanced', replicas: 4, broker: 'mqtt://broker:1883'},
    {target: 'kubernetes', mode: 'hot-spare'},
    {target: 'kubernetes', mode: 'load-balanced', replicas: 3, broker: 'mqtts://broker:8883', flows: 'nr/flows one.json'},
  ] as Partial<InitChoices>[]) {
    it(`writes a profile that loads back with the choices: ${JSON.stringify(c)}`, () => {
      const r = init(c)
      const p = loadProfile(r.profile)
      expect([p.target, p.mode, p.replicas, p.name, p.nodeRed.flows]).toEqual([c.target, c.mode, c.replicas ?? 2, 'orders', c.flows ?? 'flows.json'])
      expect(p.mqtt.broker).toBe(c.broker === 'bundled' ? 'mqtt://mosquitto:1883' : c.broker)
      expect(p.mqtt.bundled).toBe(c.broker === 'bundled')
      expect(p.failover.lease).toBe(c.target === 'kubernetes' ? 'kubernetes' : 'sqlite')
      expect(r.files.length).toBeGreaterThan(4)
      expect(r.nextSteps.join('\n')).toContain(c.target === 'compose' ? 'docker compose' : 'kubectl apply -k')
      // Every section has its comment.
      expect(readFileSync(r.profile, 'utf8').match(/^# /gm)!.length).toBeGreaterThan(8)
    })
  }

  it('refuses bad choices before writing anything', () => {
    expect(() => init({name: 'Orders_1'})).toThrow('--name "Orders_1": must be a DNS-1123 label')
    expect(() => init({broker: 'broker:1883'})).toThrow('--broker "broker:1883": must be a URL')
    expect(() => init({broker: 'mqtt://a:1883\nlistener 1'})).toThrow('--broker "mqtt://a:1883\\nlistener 1": must be a URL')
    expect(() => init({flows: 'a\nb.json'})).toThrow('--flows "a\\nb.json": must be one line')
    expect(() => init({target: 'kubernetes', broker: 'bundled'})).toThrow('a bundled broker is rendered for compose only')
    expect(existsSync(join(dir, 'ff-ha.yaml'))).toBe(false)
    expect(existsSync(join(dir, 'deploy'))).toBe(false)
  })

  it('refuses --out that is a file, or the directory of the profile, before writing the profile', () => {
    writeFileSync(join(dir, 'deploy'), 'mine\n')
    expect(() => init()).toThrow(`--out ${join(dir, 'deploy')}: is a file, not a directory`)
    expect(existsSync(join(dir, 'ff-ha.yaml'))).toBe(false)
    expect(() => initProject({choices: choices(), profileFile: join(dir, 'ff-ha.yaml'), outDir: dir, force: true})).toThrow(/holds the profile|working directory/)
    expect(existsSync(join(dir, 'ff-ha.yaml'))).toBe(false)
  })

  it('refuses to overwrite a profile or a non-empty output directory without force', () => {
    writeFileSync(join(dir, 'ff-ha.yaml'), 'name: mine\n')
    expect(() => init()).toThrow('ff-ha.yaml exists')
    expect(readFileSync(join(dir, 'ff-ha.yaml'), 'utf8')).toBe('name: mine\n')
    rmSync(join(dir, 'ff-ha.yaml'))
    init()
    rmSync(join(dir, 'ff-ha.yaml'))
    expect(() => init()).toThrow('deploy exists and is not empty')
    expect(init({}, true).files.every(f => f.status === 'unchanged')).toBe(true)
  })
})
