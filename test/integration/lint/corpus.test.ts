// Real flows: every file of ../shared/corpus and every example shipped in @node-red/nodes lints without
// a crash in both modes; mutated copies (truncated, wrong types, unknown and duplicate ids, cyclic
// subflows, huge strings, a 50 MB file) give a clean input error (exit 2, one line) or a normal lint.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Chalk} from 'chalk'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import type {FlowNode} from '../../../src/admin/types.js'
import {FfHaError, InputError} from '../../../src/errors.js'
import {readFlowsFile} from '../../../src/flows/parse.js'
import {lintFiles} from '../../../src/lint/engine.js'
import {runLintFlows} from '../../../src/lint/run.js'
import {corpusFiles, nodeRedExampleFiles, repoRoot} from '../../fixtures/flows/corpus.js'

const dir = mkdtempSync(join(tmpdir(), 'ff-ha-corpus-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const {files: corpus, source, fallback} = corpusFiles()
const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href
const ffha = (args: string[]) =>
  execa(process.execPath, ['--import', tsx, join(repoRoot, 'bin/dev.js'), 'lint', 'flows', ...args], {reject: false, env: {NO_COLOR: '1'}})

/** Lint through the command's core; returns the exit code it would give (2 for an input error). */
function lintExit(path: string): {code: number; message?: string} {
  try {
    return {code: runLintFlows({files: [path], format: 'json', colour: new Chalk({level: 0}), version: '0'}).exitCode}
  } catch (err) {
    if (err instanceof InputError) return {code: 2, message: err.message}
    throw err
  }
}

describe(`the corpus (${source})`, () => {
  it('every file lints in both modes, with a finding position inside the file', () => {
    expect(corpus.length).toBeGreaterThan(0)
    const files = corpus.map(f => readFlowsFile(f))
    for (const mode of ['load-balanced', 'hot-spare'] as const) {
      const report = lintFiles(files, {mode})
      report.files.forEach((r, i) => {
        const lines = files[i].text.split('\n').length
        for (const f of r.findings) expect(f.line).toBeLessThanOrEqual(lines)
      })
      if (mode === 'load-balanced' && !fallback) {
        // The corpus has 571 mqtt in nodes and no $share topic: the rule must see them.
        expect(report.files.flatMap(r => r.findings).filter(f => f.ruleId === 'mqtt-unshared-subscription').length).toBeGreaterThan(300)
      } else if (mode === 'load-balanced') {
        // The fallback (Node-RED's own examples) has other hazards: http in, inject timers, context.
        expect(report.summary.errors + report.summary.warnings).toBeGreaterThan(20)
      }
    }
  })

  it('every example flow of @node-red/nodes lints', () => {
    const files = nodeRedExampleFiles()
    expect(files.length).toBeGreaterThan(50)
    const report = lintFiles(files.map(f => readFlowsFile(f)), {mode: 'load-balanced', includeDisabled: true})
    expect(report.files).toHaveLength(files.length)
    expect(report.summary.errors + report.summary.warnings).toBeGreaterThan(0)
  })
})

describe('mutated corpus files', () => {
  const sample = corpus.slice(0, 8)
  const write = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }
  const nodesOf = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as FlowNode[]
  const pick = <T>(list: T[], i: number) => list[i % list.length]

  it('truncated anywhere: exit 2 naming file:line:col, never a crash', () => {
    for (const f of sample) {
      const text = readFileSync(f, 'utf8').trimEnd()
      for (const at of [1, 10, Math.floor(text.length / 2), text.length - 1]) {
        const p = write('truncated.json', text.slice(0, at))
        const r = lintExit(p)
        expect(r.code, p).toBe(2)
        expect(r.message).toMatch(/truncated\.json:\d+:\d+ not JSON: /)
      }
    }
  })

  it('wrong types for wires, z, links, rules, func, topic, in/out ports: a normal lint', () => {
    const junk = [null, 42, 'str', {a: 1}, [[null, 3, {}]], true]
    sample.forEach((f, k) => {
      const nodes = nodesOf(f).map((n, i) => ({
        ...n,
        wires: pick(junk, i + k),
        z: pick([n.z, 7, null, {}, 'no-such-tab'], i),
        ...(n.type === 'link out' || n.type === 'link in' ? {links: pick(junk, i)} : {}),
        ...(n.type === 'function' ? {func: pick([42, null, n.func], i)} : {}),
        ...(n.type === 'switch' || n.type === 'change' ? {rules: pick(junk, i)} : {}),
        ...(n.type === 'mqtt in' ? {topic: pick([5, null, n.topic], i)} : {}),
        ...(n.type === 'subflow' ? {in: pick(junk, i), out: pick(junk, i + 1)} : {}),
        ...(n.type === 'tab' ? {disabled: pick(['yes', 1, true], i), info: pick([5, {}, 'ff-ha-lint-disable'], i)} : {}),
      }))
      expect(lintExit(write(`types-${k}.json`, JSON.stringify(nodes))).code).toBeLessThan(2)
    })
  })

  it('duplicate ids, unknown tabs, cyclic subflows and huge strings: a normal lint', () => {
    const base = nodesOf(sample[0])
    const cyclic: FlowNode[] = [
      {id: 's1', type: 'subflow', name: 'A', in: [{wires: [{id: 'i2'}]}], out: [{wires: [{id: 'i2', port: 0}]}]},
      {id: 's2', type: 'subflow', name: 'B', in: [{wires: [{id: 'i1'}]}], out: [{wires: [{id: 'i1', port: 0}]}]},
      {id: 'i1', type: 'subflow:s1', z: 's2', x: 1, y: 1, wires: [['r']]},
      {id: 'i2', type: 'subflow:s2', z: 's1', x: 1, y: 1, wires: [['i1']]},
      {id: 'self', type: 'subflow:self', z: 'self', x: 1, y: 1},
      {id: 'r', type: 'rbe', z: 's1', x: 1, y: 1, wires: [['r']]},
    ]
    const huge = 'x'.repeat(5_000_000) + '"\\'.repeat(1000)
    const mutations = {
      duplicates: [...base, ...base],
      unknownTabs: base.map(n => ({...n, z: 'tab-that-is-not-there'})),
      cyclic: [...base, ...cyclic],
      hugeStrings: [...base, {id: 'h', type: 'function', z: 'x', x: 1, y: 1, func: `flow.get('a'); flow.set('a', "${huge.slice(0, 100)}")`, info: huge, name: huge}],
    }
    for (const [name, nodes] of Object.entries(mutations)) {
      const r = lintExit(write(`${name}.json`, JSON.stringify(nodes)))
      expect(r.code, name).toBeLessThan(2)
    }
  })

  it('not a flows file: exit 2 and says why', () => {
    const cases: Array<[string, RegExp]> = [
      ['"just a string"', /the top-level value is a string/],
      ['{"nodes": []}', /has no "flows" array/],
      ['[1, 2]', /node 0 is a number/],
      ['[{"type": "tab"}]', /node 0 has no id/],
      ['', /the file is empty/],
    ]
    for (const [text, why] of cases) {
      const r = lintExit(write('not-flows.json', text))
      expect(r.code).toBe(2)
      expect(r.message).toMatch(why)
    }
  })

  it('a 50 MB file made of corpus flows, through the real CLI: a normal lint with positions', async () => {
    // One unshared mqtt in per copy, so that there are errors whichever flows the corpus is (the fallback
    // examples have none of their own).
    const hazard = {id: 'ff-ha-test-mqtt', type: 'mqtt in', z: 'ff-ha-test-tab', topic: 'plant/+/temperature', x: 1, y: 1, wires: [[]]}
    const base = [...corpus.flatMap(f => nodesOf(f)).slice(0, 20_000), {id: 'ff-ha-test-tab', type: 'tab', label: 'test'}, hazard]
    const nodes: FlowNode[] = []
    let size = 0
    for (let k = 0; size < 50_000_000; k++) {
      for (const n of base) {
        const copy = {...n, id: `${n.id}-${k}`, ...(typeof n.z === 'string' ? {z: `${n.z}-${k}`} : {})}
        nodes.push(copy)
        size += JSON.stringify(copy).length + 1
      }
    }
    const big = write('big.json', JSON.stringify(nodes))
    const out = join(dir, 'big-report.json')
    const r = await ffha([big, '--format', 'json', '--output', out])
    expect(r.stderr).toMatch(/problems \(\d+ errors?, \d+ warnings?, \d+ infos?\) in 1 file/)
    expect(r.exitCode).toBe(1)
    const report = JSON.parse(readFileSync(out, 'utf8'))
    expect(report.files[0].findings.length).toBeGreaterThan(1000)
    expect(report.files[0].findings.every((f: {line: number; column: number}) => f.line === 1 && f.column > 1)).toBe(true)
  }, 180_000)

  it('through the real CLI: a truncated corpus file gives exit 2 and one line, no stack trace', async () => {
    const text = readFileSync(sample[0], 'utf8')
    const p = write('cut.json', text.slice(0, Math.floor(text.length / 3)))
    const r = await ffha([p])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/^error .*cut\.json:\d+:\d+ not JSON: .*\nhint /)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout).toBe('')
  })
})

it('FfHaError is what input problems throw', () => {
  expect(new InputError('x')).toBeInstanceOf(FfHaError)
})
