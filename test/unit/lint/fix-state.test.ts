// lint --fix for HA state (issue #16): function-node counters rewritten to the shared store's atomic increment
// when the profile makes the key's store ff-ha's shared store, and an ff-ha singleton inserted after repeating
// injects; what --fix leaves is listed with the reason.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Chalk} from 'chalk'
import {afterAll, describe, expect, it} from 'vitest'
import type {FlowNode} from '../../../src/admin/types.js'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintFiles, lintWithFixes} from '../../../src/lint/engine.js'
import {applyFixes} from '../../../src/lint/fix.js'
import {sharedContextStores} from '../../../src/lint/profile-view.js'
import {loadProfile} from '../../../src/profile/load.js'
import {runLintFlows, type LintFlowsOptions} from '../../../src/lint/run.js'
import type {LintProfileView} from '../../../src/lint/types.js'

const dir = mkdtempSync(join(tmpdir(), 'ff-ha-fix-state-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const lint = (opts: Partial<LintFlowsOptions> & {files: string[]}) => runLintFlows({format: 'json', colour: new Chalk({level: 0}), version: '0', ...opts})
const sharedProfile = {mode: 'load-balanced', mqtt: {shareGroup: 'g', bundled: false}, http: {port: 1880, editor: true, sticky: true}, nodeRed: {contextStorage: 'shared'}} as unknown as NonNullable<LintFlowsOptions['profile']>
const memoryProfile = {...sharedProfile, nodeRed: {contextStorage: 'memory'}} as unknown as NonNullable<LintFlowsOptions['profile']>

const tab = {id: 't1', type: 'tab', label: 'Counters'}
const httpIn = {id: 'h1', type: 'http in', z: 't1', url: '/hit', method: 'post', x: 100, y: 100, wires: [['f1', 'f2', 'f3']]}
const counter = {id: 'f1', type: 'function', z: 't1', name: 'count', func: "let n = flow.get('hits') || 0;\nn += 1;\nflow.set('hits', n);\nmsg.payload = n;\nreturn msg;", x: 300, y: 100, wires: [[]]}
const oneLine = {id: 'f2', type: 'function', z: 't1', func: "global.set('total', global.get('total') + msg.payload);\nreturn msg;", x: 300, y: 160, wires: [[]]}
const listPush = {id: 'f3', type: 'function', z: 't1', func: "const l = flow.get('list') || [];\nl.push(msg.payload);\nflow.set('list', l);\nreturn msg;", x: 300, y: 220, wires: [[]]}

function writeFlows(name: string, nodes: unknown[], indent: string | number = 4): string {
  const p = join(dir, name)
  writeFileSync(p, JSON.stringify(nodes, null, indent) + '\n')
  return p
}

describe('context-read-modify-write --fix: counters to the atomic increment', () => {
  it('with the shared store in the profile: rewrites both counters, lists the list push as not rewritten, and the re-lint has only that one', () => {
    const p = writeFlows('counters.json', [tab, httpIn, counter, oneLine, listPush])
    const r = lint({files: [p], fix: true, profile: sharedProfile, rules: ['timer-every-replica=off']})
    const fixed = JSON.parse(readFileSync(p, 'utf8')) as FlowNode[]
    expect(fixed.find(n => n.id === 'f1')!.func).toBe("let n = await flow.get('$atomic').increment('hits', 1);\nmsg.payload = n;\nreturn msg;")
    expect(fixed.find(n => n.id === 'f2')!.func).toBe("await global.get('$atomic').increment('total', msg.payload);\nreturn msg;")
    expect(fixed.find(n => n.id === 'f3')!.func).toBe(listPush.func)
    expect(r.json.fixes!.map(f => `${f.nodeId} ${f.key}`)).toEqual(['f1 func', 'f2 func'])
    expect(r.json.notFixed!.map(n => `${n.nodeId} ${n.ruleId}`)).toEqual(['f3 context-read-modify-write'])
    expect(r.json.notFixed![0].reason).toMatch(/not one of the patterns/)
    expect(r.stderr).toContain('Fixed 2 nodes.')
    expect(r.stderr).toMatch(/Not rewritten by --fix: 1 finding\.\n {2}.*counters\.json:\d+:\d+ function f3 \(context-read-modify-write\): not one of the patterns/)
    const left = r.report.files[0].findings.filter(f => f.ruleId === 'context-read-modify-write')
    expect(left.map(f => f.nodeId)).toEqual(['f3'])
    // Everything else in the file is as it was: only the two func strings changed.
    const original = JSON.parse(JSON.stringify([tab, httpIn, counter, oneLine, listPush])) as FlowNode[]
    original[2].func = fixed[2].func
    original[3].func = fixed[3].func
    expect(readFileSync(p, 'utf8')).toBe(JSON.stringify(original, null, 4) + '\n')
  })

  it('without a profile: not fixable, and the finding says what the rewrite needs', () => {
    const p = writeFlows('no-profile.json', [tab, httpIn, counter])
    const before = readFileSync(p, 'utf8')
    const r = lint({files: [p], fix: true, rules: ['timer-every-replica=off']})
    expect(readFileSync(p, 'utf8')).toBe(before)
    const f = r.report.files[0].findings.find(x => x.nodeId === 'f1')!
    expect(f.fixable).toBeUndefined()
    expect(f.message).toMatch(/--fix can rewrite it to the atomic await flow\.get\('\$atomic'\)\.increment\('hits', \.\.\.\) once the key is in ff-ha's shared context store \(profile nodeRed\.contextStorage: shared\)/)
    expect(r.json.notFixed![0].reason).toMatch(/without --profile/)
    expect(r.stderr).toContain('Nothing to fix.')
  })

  it('with a profile whose store is memory: not fixable, and says the store is not shared', () => {
    const p = writeFlows('memory.json', [tab, httpIn, counter])
    const r = lint({files: [p], fix: true, dryRun: true, profile: memoryProfile})
    expect(r.json.notFixed!.map(n => n.reason)).toEqual([expect.stringMatching(/the default context store is not ff-ha's shared context store/)])
  })

  it('a named store: fixed only when that store is the shared one', () => {
    const named = {...counter, func: "let n = flow.get('hits', 'shared') || 0;\nn++;\nflow.set('hits', n, 'shared');\nreturn msg;"}
    const view = (stores: string[]): LintProfileView => ({sticky: true, sharedContextStores: new Set(stores)})
    const file = () => parseFlowsText(JSON.stringify([tab, httpIn, named], null, 2), 'f.json')
    const on = lintWithFixes([file()], {mode: 'load-balanced', profile: view(['shared']), rules: {'timer-every-replica': 'off'}})
    expect(on.fixes.get('f.json')).toEqual([{index: 2, key: 'func', from: named.func, to: "let n = await flow.get('$atomic', 'shared').increment('hits', 1);\nreturn msg;"}])
    const off = lintWithFixes([file()], {mode: 'load-balanced', profile: view(['']), rules: {'timer-every-replica': 'off'}})
    expect(off.fixes.size).toBe(0)
    expect(off.notFixed.get('f.json')![0].reason).toMatch(/store "shared" is not ff-ha's shared context store/)
  })

  it('hot-spare: no rewrite offered (one writer; the shared store alone keeps the value)', () => {
    const file = parseFlowsText(JSON.stringify([tab, httpIn, counter]), 'f.json')
    const r = lintWithFixes([file], {mode: 'hot-spare', profile: {sticky: true, sharedContextStores: new Set([''])}})
    expect(r.fixes.size).toBe(0)
    expect(r.notFixed.size).toBe(0)
  })

  it('a change node: listed as not rewritten', () => {
    const change = {id: 'c1', type: 'change', z: 't1', rules: [{t: 'set', p: 'total', pt: 'flow', to: '$flowContext("total") + 1', tot: 'jsonata'}], x: 1, y: 1, wires: [[]]}
    const r = lintWithFixes([parseFlowsText(JSON.stringify([tab, change]), 'f.json')], {mode: 'load-balanced', profile: {sticky: true, sharedContextStores: new Set([''])}})
    expect(r.notFixed.get('f.json')![0].reason).toMatch(/change node.*ff-ha atomic/)
  })

  it('a real ff-ha.yaml (--profile): {default: memory, shared: {...}} rewrites a counter on the store named shared, not one on the default store', () => {
    const yaml = join(dir, 'ff-ha.yaml')
    writeFileSync(yaml, 'name: plant\nmode: load-balanced\nnodeRed:\n  contextStorage:\n    default: memory\n    shared: {backend: sqlite}\n')
    const named = {...counter, id: 'f9', func: "flow.set('n', flow.get('n', 'shared') + 1, 'shared');\nreturn msg;"}
    const p = writeFlows('real-profile.json', [tab, httpIn, named, counter])
    const r = lint({files: [p], fix: true, dryRun: true, profile: loadProfile(yaml), rules: ['timer-every-replica=off']})
    expect(r.json.fixes!.map(f => [f.nodeId, f.to])).toEqual([['f9', "await flow.get('$atomic', 'shared').increment('n', 1);\nreturn msg;"]])
    expect(r.json.notFixed!.map(n => [n.nodeId, n.reason])).toEqual([['f1', expect.stringMatching(/the default context store is not ff-ha's shared context store/)]])
  })

  it("reads the profile's contextStorage: shared as the default store and the store named shared", () => {
    expect([...sharedContextStores('shared')].sort()).toEqual(['', 'shared'])
    expect([...sharedContextStores('memory')]).toEqual([])
    expect([...sharedContextStores({default: 'memory', shared: {backend: 'postgres'}})]).toEqual(['shared'])
    expect([...sharedContextStores({default: 'shared'})].sort()).toEqual(['', 'shared'])
    expect([...sharedContextStores({default: 'localfilesystem'})]).toEqual([])
  })
})

describe('timer-every-replica --fix: an ff-ha singleton after repeating injects', () => {
  const inject = {id: 'i1', type: 'inject', z: 't1', g: 'grp', name: 'Poll Weather', repeat: '60', crontab: '', once: false, topic: '', x: 120, y: 80, wires: [['w1', 'w2']]}
  const cron = {id: 'i2', type: 'inject', z: 't1', crontab: '*/5 * * * *', repeat: '', x: 120, y: 300, wires: [['w1']]}
  const once = {id: 'i3', type: 'inject', z: 't1', once: true, repeat: '', crontab: '', x: 120, y: 400, wires: [['w1']]}
  const loose = {id: 'i4', type: 'inject', z: 't1', repeat: '5', x: 120, y: 500, wires: []}
  const w1 = {id: 'w1', type: 'http request', z: 't1', url: 'http://x', x: 400, y: 80, wires: [[]]}
  const w2 = {id: 'w2', type: 'debug', z: 't1', x: 400, y: 140, wires: []}
  const group = {id: 'grp', type: 'group', z: 't1', nodes: ['i1'], x: 10, y: 10, w: 300, h: 200}
  const nodes = [tab, group, inject, cron, once, loose, w1, w2]

  for (const [style, indent] of [['4-space pretty', 4], ['minified', 0], ['tab-indented', '\t']] as const) {
    it(`${style}: wires inject -> singleton -> old targets, ids stable, next to the inject; a second --fix changes nothing`, () => {
      const p = writeFlows(`timers-${style.replace(/\W+/g, '-')}.json`, nodes, indent)
      const before = readFileSync(p, 'utf8')
      const r = lint({files: [p], fix: true, rules: ['context-read-modify-write=off']})
      const text = readFileSync(p, 'utf8')
      const fixed = JSON.parse(text) as FlowNode[]
      expect(fixed).toHaveLength(nodes.length + 2)
      const s1 = fixed.find(n => n.type === 'ff-ha singleton' && (n.wires as string[][])[0].includes('w2'))!
      const s2 = fixed.find(n => n.type === 'ff-ha singleton' && n !== s1)!
      expect(s1).toMatchObject({z: 't1', g: 'grp', name: 'poll-weather', x: 280, y: 120, wires: [['w1', 'w2']]})
      expect(s1.id).toMatch(/^[0-9a-f]{16}$/)
      expect(s2).toMatchObject({z: 't1', name: 'inject-i2', x: 280, y: 340, wires: [['w1']]})
      expect(fixed.find(n => n.id === 'i1')!.wires).toEqual([[s1.id]])
      expect(fixed.find(n => n.id === 'i2')!.wires).toEqual([[s2.id]])
      // The new node sits right after its inject; every other node is as it was.
      expect(fixed.findIndex(n => n.id === s1.id)).toBe(fixed.findIndex(n => n.id === 'i1') + 1)
      const rest = fixed.filter(n => n.type !== 'ff-ha singleton').map(n => (n.id === 'i1' || n.id === 'i2' ? {...n, wires: 'x'} : n))
      expect(rest).toEqual(nodes.map(n => (n.id === 'i1' || n.id === 'i2' ? {...n, wires: 'x'} : n)))
      // The same ids from the same file: deterministic.
      writeFileSync(p, before)
      lint({files: [p], fix: true, rules: ['context-read-modify-write=off']})
      expect(readFileSync(p, 'utf8')).toBe(text)
      if (indent === 4) expect(text).toContain(`    {\n        "id": "${s1.id}",\n        "type": "ff-ha singleton",`)
      if (indent === 0) expect(text.split('\n')).toHaveLength(2)
      // The report after the fix: the guarded injects are no longer findings; once and loose ones are left.
      const timers = r.report.files[0].findings.filter(f => f.ruleId === 'timer-every-replica')
      expect(timers.map(f => f.nodeId)).toEqual(['i3', 'i4'])
      expect(r.json.notFixed!.map(n => `${n.nodeId}: ${n.reason}`)).toEqual([expect.stringMatching(/^i3: it fires once at start/), expect.stringMatching(/^i4: it has no wires/)])
      // Idempotent: a second --fix finds nothing more to insert.
      const again = lint({files: [p], fix: true, rules: ['context-read-modify-write=off']})
      expect(again.json.fixes).toEqual([])
      expect(readFileSync(p, 'utf8')).toBe(text)
    })
  }

  it('the finding names the singleton node, and the fix in --dry-run shows the new node', () => {
    const p = writeFlows('dry.json', [tab, inject, w1, w2])
    const r = lint({files: [p], fix: true, dryRun: true})
    const f = r.report.files[0].findings.find(x => x.nodeId === 'i1')!
    expect(f.fixable).toBe(true)
    expect(f.message).toMatch(/Put an ff-ha singleton node after it.*--fix inserts one named "poll-weather"/)
    expect(r.stdout).toMatch(/@@ .*dry\.json:\d+:\d+ inject i1 wires, and a new ff-ha singleton [0-9a-f]{16} after it\n-"wires": \[\["w1","w2"\]\]\n\+"wires": \[\["[0-9a-f]{16}"\]\]\n\+\{"id":/)
  })

  it('the admin API v2 shape {flows, rev} is fixed inside its flows array', () => {
    const text = JSON.stringify({flows: [tab, inject, w1, w2], rev: 'abc'}, null, 4)
    const file = parseFlowsText(text, 'v2.json')
    const fixed = applyFixes(file, lintWithFixes([file], {mode: 'load-balanced'}).fixes.get('v2.json')!)
    const out = JSON.parse(fixed.text) as {flows: FlowNode[]; rev: string}
    expect(out.rev).toBe('abc')
    expect(out.flows.map(n => n.type)).toEqual(['tab', 'inject', 'ff-ha singleton', 'http request', 'debug'])
  })

  it('an inject already wired to a singleton is not a finding', () => {
    const guarded = {...inject, wires: [['s']]}
    const s = {id: 's', type: 'ff-ha singleton', z: 't1', name: 'poll', x: 1, y: 1, wires: [['w1']]}
    const findings = lintFiles([parseFlowsText(JSON.stringify([tab, guarded, s, w1]), 'f.json')], {mode: 'load-balanced'}).files[0].findings
    expect(findings.filter(f => f.ruleId === 'timer-every-replica')).toEqual([])
  })
})
