import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintWithFixes} from '../../../src/lint/engine.js'
import {applyFixes, findStringValue, writeFileAtomic} from '../../../src/lint/fix.js'

function fixText(text: string, shareGroup = 'g') {
  const file = parseFlowsText(text, 'f.json')
  const result = lintWithFixes([file], {mode: 'load-balanced', shareGroup})
  return applyFixes(file, result.fixes.get('f.json') ?? [])
}

describe('--fix', () => {
  it('prefixes mqtt in topics with $share/<group>/ and changes nothing else (4-space, CRLF, no final newline)', () => {
    const text = '[\r\n    {\r\n        "id": "m",\r\n        "type": "mqtt in",\r\n        "topic": "a/\\u0062",\r\n        "name": "topic",\r\n        "x": 1,\r\n        "y": 2\r\n    }\r\n]'
    const {text: out, applied} = fixText(text)
    expect(out).toBe(text.replace('"a/\\u0062"', '"$share/g/a/\\u0062"'))
    expect(applied).toEqual([{nodeId: 'm', key: 'topic', from: 'a/b', to: '$share/g/a/b', line: 5, column: 18}])
  })

  it('works on minified files, tabs, and several nodes, and leaves shared topics and nested "topic" keys alone', () => {
    const nodes = [
      {id: 'a', type: 'mqtt in', props: {topic: 'nested'}, topic: 'x/#', x: 1, y: 1},
      {id: 'b', type: 'mqtt in', topic: '$share/other/y', x: 1, y: 1},
      {id: 'c', type: 'mqtt in', topic: 'z', x: 1, y: 1},
    ]
    for (const indent of ['', '\t', '  ']) {
      const text = JSON.stringify(nodes, null, indent)
      const {text: out} = fixText(text)
      const expected = JSON.parse(text)
      expected[0].topic = '$share/g/x/#'
      expected[2].topic = '$share/g/z'
      expect(out).toBe(JSON.stringify(expected, null, indent))
    }
  })

  it('shows a diff for --dry-run', () => {
    const {diff} = fixText('[\n  {"id": "a", "type": "mqtt in", "topic": "t", "x": 1, "y": 1}\n]\n')
    expect(diff).toBe('@@ f.json:2:43 mqtt in a topic\n-  {"id": "a", "type": "mqtt in", "topic": "t", "x": 1, "y": 1}\n+  {"id": "a", "type": "mqtt in", "topic": "$share/g/t", "x": 1, "y": 1}\n')
  })

  it('finds a key only at the top level of the node object', () => {
    const text = '{"a": {"topic": "no"}, "b": ["topic"], "topic": "yes"}'
    const span = findStringValue(text, 0, 'topic')!
    expect(text.slice(span.start, span.end)).toBe('"yes"')
    expect(findStringValue('{"topic": 5}', 0, 'topic')).toBeUndefined()
  })
})

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-fix-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('replaces the file through a temp file, keeps its mode, and leaves no temp file', () => {
    const p = join(dir, 'flows.json')
    writeFileSync(p, 'old')
    chmodSync(p, 0o640)
    writeFileAtomic(p, 'new')
    expect(readFileSync(p, 'utf8')).toBe('new')
    expect(statSync(p).mode & 0o777).toBe(0o640)
    expect(readdirSync(dir)).toEqual(['flows.json'])
  })
})
