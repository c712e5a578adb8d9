import {describe, expect, it} from 'vitest'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {defaultShareGroup, lintFiles} from '../../../src/lint/engine.js'
import {parseSuppressions} from '../../../src/lint/suppress.js'
import {InputError} from '../../../src/errors.js'

const file = (nodes: object[], path = 'flows.json') => parseFlowsText(JSON.stringify(nodes, null, 4), path)
const rbeOn = (z: string, extra: object = {}) => ({id: `rbe-${z}`, type: 'rbe', z, x: 1, y: 1, wires: [], ...extra})

describe('lintFiles', () => {
  it('skips disabled nodes and tabs, and lints them with includeDisabled', () => {
    const f = file([
      {id: 'on', type: 'tab', label: 'On'},
      {id: 'off', type: 'tab', label: 'Off', disabled: true},
      rbeOn('on'),
      rbeOn('off'),
      {id: 'd', type: 'rbe', z: 'on', d: true, x: 1, y: 1},
    ])
    expect(lintFiles([f], {mode: 'load-balanced'}).files[0].findings.map(x => x.nodeId)).toEqual(['rbe-on'])
    expect(lintFiles([f], {mode: 'load-balanced', includeDisabled: true}).files[0].findings.map(x => x.nodeId)).toEqual(['rbe-on', 'rbe-off', 'd'])
  })

  it('names the tab by label and gives the node object line and column', () => {
    const report = lintFiles([file([{id: 'on', type: 'tab', label: 'Kitchen'}, rbeOn('on', {name: 'dedupe'})])], {mode: 'hot-spare'})
    expect(report.files[0].findings[0]).toMatchObject({tab: 'Kitchen', nodeName: 'dedupe', nodeType: 'rbe', line: 7, column: 5, severity: 'warning'})
  })

  it('applies --rule overrides, including off, and rejects unknown rules', () => {
    const f = file([{id: 't', type: 'tab'}, rbeOn('t'), {id: 'i', type: 'inject', z: 't', repeat: '5', x: 1, y: 1}])
    const r = lintFiles([f], {mode: 'load-balanced', rules: {'implicit-state': 'error', 'timer-every-replica': 'off'}})
    expect(r.files[0].findings.map(x => `${x.ruleId}:${x.severity}`)).toEqual(['implicit-state:error'])
    expect(() => lintFiles([f], {mode: 'load-balanced', rules: {'no-such-rule': 'off'}})).toThrow(InputError)
  })

  it('honours ff-ha-lint-disable in the node, its group and its tab, and counts them', () => {
    const f = file([
      {id: 't1', type: 'tab', label: 'A', info: 'Tab notes\nff-ha-lint-disable timer-every-replica -- one replica runs this tab'},
      {id: 't2', type: 'tab', label: 'B'},
      {id: 'g', type: 'group', z: 't2', nodes: ['r2'], info: 'ff-ha-lint-disable implicit-state -- dedupe per replica is fine'},
      {id: 'i1', type: 'inject', z: 't1', repeat: '5', x: 1, y: 1},
      {id: 'r1', type: 'rbe', z: 't2', x: 1, y: 1, info: 'ff-ha-lint-disable implicit-state, timer-every-replica -- reviewed'},
      {id: 'r2', type: 'rbe', z: 't2', g: 'g', x: 1, y: 1},
      {id: 'r3', type: 'rbe', z: 't2', x: 1, y: 1, info: 'ff-ha-lint-disable context-read-modify-write -- other rule'},
    ])
    const report = lintFiles([f], {mode: 'load-balanced'})
    expect(report.files[0].findings.map(x => x.nodeId)).toEqual(['r3'])
    expect(report.summary.suppressed).toBe(3)
    expect(report.files[0].suppressed.map(s => s.reason).sort()).toEqual(['dedupe per replica is fine', 'one replica runs this tab', 'reviewed'])
  })

  it('reports a finding inside a subflow once, on the definition, naming every instance; unused subflows too', () => {
    const f = file([
      {id: 't', type: 'tab', label: 'Main'},
      {id: 'sf', type: 'subflow', name: 'Dedupe', in: [{wires: [{id: 'inner'}]}], out: []},
      {id: 'inner', type: 'rbe', z: 'sf', x: 1, y: 1},
      {id: 'a', type: 'subflow:sf', name: 'first', z: 't', x: 1, y: 1},
      {id: 'b', type: 'subflow:sf', z: 't', x: 1, y: 1},
      {id: 'sf2', type: 'subflow', name: 'Unused'},
      {id: 'inner2', type: 'trigger', z: 'sf2', x: 1, y: 1},
    ])
    const [inSf, unused] = lintFiles([f], {mode: 'load-balanced'}).files[0].findings
    expect(inSf).toMatchObject({nodeId: 'inner', tab: 'Dedupe', instances: ['first (Main)', 'b (Main)']})
    expect(inSf.message).toContain('each of its 2 instances: first (Main), b (Main)')
    expect(unused.message).toContain('which no node uses yet')
  })

  it('skips a subflow whose every instance is disabled', () => {
    const f = file([
      {id: 'sf', type: 'subflow', name: 'S'},
      {id: 'inner', type: 'rbe', z: 'sf', x: 1, y: 1},
      {id: 'a', type: 'subflow:sf', d: true, x: 1, y: 1},
    ])
    expect(lintFiles([f], {mode: 'load-balanced'}).summary).toEqual({errors: 0, warnings: 0, infos: 0, suppressed: 0})
  })

  it('sums the summary over files and keeps findings sorted by position', () => {
    const a = file([{id: 't', type: 'tab'}, rbeOn('t'), {id: 'x', type: 'inject', z: 't', once: true, x: 1, y: 1}], 'a.json')
    const b = file([{id: 't', type: 'tab'}, rbeOn('t')], 'b.json')
    const r = lintFiles([a, b], {mode: 'load-balanced'})
    expect(r.files.map(x => x.path)).toEqual(['a.json', 'b.json'])
    expect(r.summary).toEqual({errors: 0, warnings: 3, infos: 0, suppressed: 0})
    expect(r.files[0].findings.map(x => x.line)).toEqual([...r.files[0].findings.map(x => x.line)].sort((p, q) => p - q))
  })
})

describe('suppression comments', () => {
  it.each([
    ['ff-ha-lint-disable implicit-state -- why', ['implicit-state'], 'why'],
    ['text\nff-ha-lint-disable a, b -- two rules\nmore', ['a', 'b'], 'two rules'],
    ['ff-ha-lint-disable -- everything', ['*'], 'everything'],
    ['ff-ha-lint-disable implicit-state', ['implicit-state'], ''],
  ])('%j', (info, rules, reason) => {
    const [s] = parseSuppressions(info)
    expect([...s.rules]).toEqual(rules)
    expect(s.reason).toBe(reason)
  })
  it('ignores other text and non-strings', () => {
    expect(parseSuppressions('ff-ha-lint-disabled x')).toEqual([])
    expect(parseSuppressions(42)).toEqual([])
  })
})

describe('defaultShareGroup', () => {
  it('uses the file base name, made safe', () => {
    expect(defaultShareGroup('/srv/node red/flows.json')).toBe('flows')
    expect(defaultShareGroup('my+flows v2.json')).toBe('my-flows-v2')
    expect(defaultShareGroup('-')).toBe('ff-ha')
  })
})
