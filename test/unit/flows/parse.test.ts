import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {parseFlowsText, readFlowsFile} from '../../../src/flows/parse.js'
import {validate} from '../../../src/flows/json-error.js'
import {corpusFiles} from '../../fixtures/flows/corpus.js'

function errorOf(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error('expected an InputError')
}

describe('parseFlowsText', () => {
  it('reads a top-level array with the position of each node object', () => {
    const text = '[\n    {\n        "id": "a",\n        "type": "tab"\n    },\n    {"id": "b", "type": "inject", "z": "a"}\n]\n'
    const f = parseFlowsText(text, 'f.json')
    expect(f.format).toBe('array')
    expect(f.nodes.map(n => n.id)).toEqual(['a', 'b'])
    expect(f.positionOf(0)).toEqual({line: 2, column: 5})
    expect(f.positionOf(1)).toEqual({line: 6, column: 5})
    expect(f.indent).toBe('    ')
    expect(f.finalNewline).toBe(true)
  })

  it('reads the v2 object {flows, rev}, ignoring braces inside strings and other keys', () => {
    const text = '{"x": [{"id": "no"}], "rev": "r1", "flows": [{"id": "a", "type": "tab", "label": "{[\\"}"}, {"id": "b", "type": "debug"}]}'
    const f = parseFlowsText(text, 'v2.json')
    expect(f.format).toBe('v2')
    expect(f.rev).toBe('r1')
    expect(f.nodes).toHaveLength(2)
    expect(f.positionOf(1)).toEqual({line: 1, column: text.indexOf('{"id": "b"') + 1})
    expect(f.indent).toBe('')
  })

  it('finds positions by walking the text when nodes do not start with id and type (not written by Node-RED)', () => {
    const text = '[\n  {"type": "tab", "id": "a"},\n  {"x": {"id": "b", "type": "inject"}, "id": "b", "type": "inject"}\n]'
    const f = parseFlowsText(text, 'f.json')
    expect(f.positionOf(0)).toEqual({line: 2, column: 3})
    expect(f.positionOf(1)).toEqual({line: 3, column: 3})
  })

  it('skips references to a node (wires, subflow ports) when finding it by id', () => {
    const nodes = [
      {id: 'sf', type: 'subflow', in: [{wires: [{id: 'n', type: 'x'}]}], out: [{wires: [{id: 'n', port: 0}]}]},
      {id: 'a', type: 'inject', wires: [['n']]},
      {id: 'n', type: 'debug'},
    ]
    const text = JSON.stringify(nodes, null, 4)
    const f = parseFlowsText(text, 'f.json')
    expect(f.offsetOf(2)).toBe(text.lastIndexOf('{\n        "id": "n"'))
  })

  it('places both nodes of a duplicated id (by walking the text)', () => {
    const text = '[\n{"id": "a", "type": "tab"},\n{"id": "d", "type": "rbe"},\n{"id": "d", "type": "rbe"}\n]'
    const f = parseFlowsText(text, 'f.json')
    expect([f.positionOf(2), f.positionOf(1)]).toEqual([{line: 4, column: 1}, {line: 3, column: 1}])
  })

  it('finds nodes asked for out of order', () => {
    const nodes = Array.from({length: 50}, (_, i) => ({id: `n${i}`, type: 'inject', wires: [[`n${i + 1}`]]}))
    const text = JSON.stringify(nodes, null, 2)
    const f = parseFlowsText(text, 'f.json')
    for (const i of [40, 3, 49, 0, 41, 2]) expect(f.offsetOf(i)).toBe(text.indexOf(`{\n    "id": "n${i}"`))
  })

  it('skips a byte order mark', () => {
    expect(parseFlowsText('\ufeff[{"id":"a","type":"tab"}]', 'bom.json').nodes).toHaveLength(1)
  })

  it.each([
    ['[{"id": "a", "type": "tab",}]', 'f.json:1:28 not JSON: expected double-quoted property name'],
    ['[\n  {"id": "a"\n', 'f.json:3:1 not JSON:'],
    ['[\n  {"id": tru}\n]', 'f.json:2:10 not JSON: unexpected "t" where a value was expected'],
    ['', 'f.json:1:1 the file is empty'],
    ['"flows"', 'f.json:1:1 not a flows file: the top-level value is a string'],
    ['{"rev": "x"}', 'not a flows file: the top-level object has no "flows" array'],
    ['{"flows": 3}', 'not a flows file: "flows" is a number, not an array'],
    ['[{"id": "a", "type": "tab"}, 7]', 'f.json:1:1 not a flows file: node 1 is a number, not an object'],
    ['[\n{"id": "a", "type": "tab"},\n  {"type": "inject"}]', 'f.json:3:3 not a flows file: node 1 has no id'],
    ['[{"id": 12, "type": "tab"}]', 'node 0 has an id that is a number, not a string'],
    ['[{"id": "x"}]', 'node 0 (id x) has no type'],
  ])('rejects %j with a message that says where and why', (text, message) => {
    const err = errorOf(() => parseFlowsText(text, 'f.json'))
    expect(err.message).toContain(message)
    expect(err.exitCode).toBe(2)
  })

  it('never quotes the file content in a JSON error (it may hold secrets)', () => {
    const err = errorOf(() => parseFlowsText('[{"password": "hunter2", "x": nope}]', 'f.json'))
    expect(err.message).not.toContain('hunter2')
  })
})

describe('readFlowsFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-parse-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('names a missing file', () => {
    expect(errorOf(() => readFlowsFile(join(dir, 'nope.json'))).message).toMatch(/nope\.json: no such file/)
  })

  it('names a directory', () => {
    expect(errorOf(() => readFlowsFile(dir)).message).toMatch(/is a directory/)
  })

  it('reads a file from disk', () => {
    const p = join(dir, 'f.json')
    writeFileSync(p, '[{"id":"a","type":"tab"}]')
    expect(readFlowsFile(p).nodes[0].id).toBe('a')
  })
})

describe('the corpus', () => {
  const {files, source} = corpusFiles()
  it(`parses every file and places every node at its own object (${source})`, () => {
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      const f = readFlowsFile(file)
      for (let i = 0; i < f.nodes.length; i++) {
        const offset = f.offsetOf(i)
        expect(f.text[offset]).toBe('{')
        // The node's own id appears in its object (before the next node starts).
        const end = i + 1 < f.nodes.length ? f.offsetOf(i + 1) : f.text.length
        expect(f.text.slice(offset, end)).toContain(JSON.stringify(f.nodes[i].id))
      }
    }
  })

  it('the fallback validator agrees with JSON.parse on every corpus file', () => {
    for (const file of files.slice(0, 20)) expect(validate(readFlowsFile(file).text)).toBeUndefined()
  })
})
