import {describe, expect, it} from 'vitest'
import {LineIndex} from '../../../src/flows/lines.js'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {NodeLocator, PrettyLayout, scanNodeOffsets} from '../../../src/flows/scan.js'

// The oracle: walk the JSON structure for each node's `{`, then count lines.
function walked(text: string, format: 'array' | 'v2') {
  const lines = new LineIndex(text)
  return scanNodeOffsets(text, text.search(/\S/), format).map(o => ({offset: o, ...lines.positionAt(o)}))
}

function positions(text: string) {
  const f = parseFlowsText(text, 't.json')
  return f.nodes.map((_, i) => ({offset: f.offsetOf(i), ...f.positionOf(i)}))
}

const nodes = [
  {id: 't1', type: 'tab', label: 'A {b}'},
  {id: 'n1', type: 'change', z: 't1', rules: [{t: 'set', p: 'x', to: '{\n  "id": "n2"\n}'}], wires: [['n2']]},
  {id: 'n2', type: 'function', z: 't1', func: 'return {id: "n1"}', wires: [[]]},
  {id: 'q"\\é', type: 'debug', z: 't1'},
]

describe('pretty layout', () => {
  for (const [name, indent, eol] of [
    ['4 spaces', 4, '\n'],
    ['2 spaces', 2, '\n'],
    ['tabs', '\t', '\n'],
    ['4 spaces, CRLF', 4, '\r\n'],
  ] as const) {
    it(`places every node where walking the text does (${name}, array and v2)`, () => {
      const array = JSON.stringify(nodes, null, indent).replace(/\n/g, eol) + eol
      const v2 = JSON.stringify({flows: nodes, rev: 'r'}, null, indent).replace(/\n/g, eol)
      expect(positions(array)).toEqual(walked(array, 'array'))
      expect(positions(v2)).toEqual(walked(v2, 'v2'))
    })
  }

  it('is found for a pretty file, and matches each node only when its object opens with its id', () => {
    const text = JSON.stringify(nodes, null, 4)
    const ids = nodes.map(n => n.id)
    const layout = PrettyLayout.scan(text, '    ', 1, ids, '\n')
    expect(layout && ids.map((_, i) => layout.has(i))).toEqual([true, true, true, true])
    // Same lines, but the objects stand for other nodes: no entry is used.
    const other = PrettyLayout.scan(text, '    ', 1, ['x', 'y', 'z', 'w'], '\n')
    expect(other && [0, 1, 2, 3].map(i => other.has(i))).toEqual([false, false, false, false])
    // More nodes than such lines: no layout.
    expect(PrettyLayout.scan(text, '    ', 1, [...ids, 'extra'], '\n')).toBeUndefined()
    expect(PrettyLayout.scan(JSON.stringify(nodes), '', 1, ids, '\n')).toBeUndefined()
  })

  it('falls back, node by node, where the layout is not the one JSON.stringify writes', () => {
    // Node 1 is written on one line, node 2 has its type first, and a nested object stands at the nodes' indentation.
    const text = [
      '[',
      '    {',
      '        "id": "t1",',
      '        "type": "tab"',
      '    },',
      '    {"id": "n1", "type": "inject", "z": "t1"},',
      '    {',
      '        "type": "debug",',
      '        "id": "n2",',
      '        "info": [',
      '    {',
      '        "id": "n1"',
      '    }',
      '        ]',
      '    }',
      ']',
    ].join('\n')
    expect(positions(text)).toEqual(walked(text, 'array'))
  })

  it('places nodes of minified and hand-indented files as walking does', () => {
    const mini = JSON.stringify(nodes)
    expect(positions(mini)).toEqual(walked(mini, 'array'))
    const odd = JSON.stringify(nodes, null, 4).replace(/\n {4}\{/g, '\n  {')
    expect(positions(odd)).toEqual(walked(odd, 'array'))
  })
})

describe('node positions on a minified file, in any order of lookups', () => {
  const many = Array.from({length: 20_000}, (_, i) => ({id: `n${i}`, type: 'change', z: 't', wires: [[`n${(i * 7919) % 20_000}`]]}))
  const text = JSON.stringify(many)

  it('agree with the walk, asked backwards, and search at most three times the text in all', () => {
    const f = parseFlowsText(text, 'min.json')
    const truth = walked(text, 'array')
    const locator = new NodeLocator(text, 0, 'array', many, true)
    // Backwards and then a stride: before, each lookup with no earlier node found searched from the start.
    const order = [...many.keys()].reverse().concat([...many.keys()].filter(i => i % 97 === 0))
    for (const i of order) expect(locator.offsetOf(i)).toBe(truth[i].offset)
    // The budget (twice the text) plus the one search that crossed it.
    expect(locator.charsSearched).toBeLessThanOrEqual(3 * text.length)
    for (const i of [19_999, 0, 12_345]) expect(f.positionOf(i)).toEqual({line: 1, column: truth[i].offset + 1})
  })
})
