import {chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintWithFixes} from '../../../src/lint/engine.js'
import {applyFixes, findStringValue, writeFileAtomic} from '../../../src/lint/fix.js'

/** The topic fix alone: mqtt-ack-on-arrival (the type fix) is off here, and tested on its own below. */
function fixText(text: string, shareGroup = 'g') {
  const file = parseFlowsText(text, 'f.json')
  const result = lintWithFixes([file], {mode: 'load-balanced', shareGroup, rules: {'mqtt-ack-on-arrival': 'off'}})
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

  it('swaps a QoS 1/2 mqtt in to ff-ha mqtt in and its topic to $share in one pass, nothing else (4-space, CRLF, no final newline)', () => {
    const text = '[\r\n    {\r\n        "id": "m",\r\n        "type": "mqtt\\u0020in",\r\n        "topic": "a/b",\r\n        "qos": "1",\r\n        "x": 1,\r\n        "y": 2\r\n    },\r\n    {"id": "z", "type": "mqtt in", "topic": "$share/g/q", "qos": "0", "x": 1, "y": 3}\r\n]'
    for (const mode of ['hot-spare', 'load-balanced'] as const) {
      const file = parseFlowsText(text, 'f.json')
      const {text: out, applied, diff} = applyFixes(file, lintWithFixes([file], {mode, shareGroup: 'g'}).fixes.get('f.json') ?? [])
      // The type keeps its escape (the fix adds a prefix); the QoS 0 node is not touched.
      const typed = text.replace('"mqtt\\u0020in"', '"ff-ha mqtt\\u0020in"')
      expect(out).toBe(mode === 'hot-spare' ? typed : typed.replace('"a/b"', '"$share/g/a/b"'))
      expect(applied.map(a => `${a.nodeId} ${a.key} ${a.to} ${a.line}:${a.column}`)).toEqual(['m type ff-ha mqtt in 4:17', ...(mode === 'hot-spare' ? [] : ['m topic $share/g/a/b 5:18'])])
      expect(diff).toContain('@@ f.json:4:17 mqtt in m type\n-        "type": "mqtt\\u0020in",\r\n+        "type": "ff-ha mqtt\\u0020in",\r\n'.replace(/\r\n/g, '\n'))
    }
  })

  it('--rule mqtt-ack-on-arrival=off keeps core mqtt in (no type fix)', () => {
    const file = parseFlowsText('[{"id": "m", "type": "mqtt in", "topic": "$share/g/a", "qos": "1", "x": 1, "y": 1}]', 'f.json')
    const result = lintWithFixes([file], {mode: 'hot-spare', rules: {'mqtt-ack-on-arrival': 'off'}})
    expect(result.fixes.size).toBe(0)
    const on = lintWithFixes([file], {mode: 'hot-spare'})
    expect(on.fixes.get('f.json')).toEqual([{index: 0, key: 'type', from: 'mqtt in', to: 'ff-ha mqtt in'}])
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
    // A repeated key: the last one is the value JSON.parse (and Node-RED) take, so that is the one fixed.
    const dup = '{"topic": "a", "x": {"topic": "n"}, "topic": "b"}'
    const last = findStringValue(dup, 0, 'topic')!
    expect(dup.slice(last.start, last.end)).toBe('"b"')
    expect(findStringValue('{"topic": "a", "topic": 5}', 0, 'topic')).toBeUndefined()
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

describe('--fix at scale, on a minified file (one line)', () => {
  it('fixes 16,000 mqtt in nodes in one pass: every topic, nothing else, and a bounded diff line per change', () => {
    // Before: the text was rebuilt per fix and each change's line (the whole file) read twice per fix: 4,000
    // such nodes took 35 s and 1.9 GB, 16,000 ran out of heap.
    const nodes: Array<Record<string, unknown>> = [{id: 'tab', type: 'tab', label: 'T'}, {id: 'b', type: 'mqtt-broker', broker: 'x'}]
    for (let i = 0; i < 16_000; i++) nodes.push({id: `m${i}`, type: 'mqtt in', z: 'tab', topic: `s/${i}/#`, broker: 'b', x: i, y: 1, wires: [[]]})
    const text = JSON.stringify(nodes)
    const {text: out, applied, diff, edits} = fixText(text)
    expect(applied).toHaveLength(16_000)
    expect(edits).toHaveLength(16_000)
    const expected = nodes.map(n => (n.type === 'mqtt in' ? {...n, topic: `$share/g/${String(n.topic)}`} : n))
    expect(out).toBe(JSON.stringify(expected))
    const lines = diff.trimEnd().split('\n')
    expect(lines).toHaveLength(3 * 16_000)
    // Each shown line is a clip around its change, not the file.
    expect(Math.max(...lines.map(l => l.length))).toBeLessThan(260)
    expect(applied[15_999]).toMatchObject({nodeId: 'm15999', line: 1, column: text.indexOf('"s/15999/#"') + 1})
  })

  it('fixes 16,000 mqtt in nodes\' type and topic in one pass (two edits per node object), nothing else', () => {
    const nodes: Array<Record<string, unknown>> = [{id: 'tab', type: 'tab', label: 'T'}, {id: 'b', type: 'mqtt-broker', broker: 'x'}]
    for (let i = 0; i < 16_000; i++) nodes.push({id: `m${i}`, type: 'mqtt in', z: 'tab', topic: `s/${i}/#`, qos: String(1 + (i % 2)), broker: 'b', x: i, y: 1, wires: [[]]})
    const text = JSON.stringify(nodes)
    const file = parseFlowsText(text, 'f.json')
    const {text: out, edits} = applyFixes(file, lintWithFixes([file], {mode: 'load-balanced', shareGroup: 'g'}).fixes.get('f.json') ?? [])
    expect(edits).toHaveLength(32_000)
    expect(out).toBe(JSON.stringify(nodes.map(n => (n.type === 'mqtt in' ? {...n, type: 'ff-ha mqtt in', topic: `$share/g/${String(n.topic)}`} : n))))
  })

  it('shows what the whole-line diff showed: a long line clipped, a short line in full, on each side', () => {
    // The oracle is the simple way: take the whole line before and after, clip lines over 200 characters.
    const clip = (line: string, at: number) => (line.length <= 200 ? line : `${at > 60 ? '…' : ''}${line.slice(Math.max(0, at - 60), at + 140)}…`)
    const oracle = (text: string, value: string) => {
      const at = text.indexOf(`"${value}"`)
      const start = text.lastIndexOf('\n', at - 1) + 1
      const end = text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at)
      const line = text.slice(start, end)
      const after = line.slice(0, at - start) + `"$share/g/${value}"` + line.slice(at - start + value.length + 2)
      return [`-${clip(line, at - start)}`, `+${clip(after, at - start)}`]
    }
    for (const pad of [0, 30, 150, 186, 187, 188, 300]) {
      const long = 'x'.repeat(pad)
      const text = `[{"id":"a","type":"mqtt in","name":"${long}","topic":"t","more":"${long}"},\n{"id":"b","type":"mqtt in","topic":"u"}]`
      const lines = fixText(text).diff.split('\n')
      expect([lines[1], lines[2]], `pad ${pad}`).toEqual(oracle(text, 't'))
      expect([lines[4], lines[5]], `pad ${pad}`).toEqual(oracle(text, 'u'))
    }
  })
})

describe('writeFileAtomic through a symlink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-fix-link-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('writes the target, keeps the link a link, keeps the target\'s mode', () => {
    mkdirSync(join(dir, 'real'))
    const target = join(dir, 'real', 'flows.json')
    writeFileSync(target, 'old')
    chmodSync(target, 0o600)
    const link = join(dir, 'flows.json')
    symlinkSync('real/flows.json', link)
    writeFileAtomic(link, 'new')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(link)).toBe('real/flows.json')
    expect(readFileSync(target, 'utf8')).toBe('new')
    expect(statSync(target).mode & 0o777).toBe(0o600)
    expect(readdirSync(join(dir, 'real'))).toEqual(['flows.json'])
  })
})
