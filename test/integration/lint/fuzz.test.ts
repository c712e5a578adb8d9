// Fuzzing the flows path: thousands of mutated real flows files (examples/flows.json and the @node-red/nodes
// examples, which every clone has), seeded so that a failure repeats, each run through parse, lint (both
// modes), every reporter and --fix's text edit in-process. Each must end in a result or a typed error
// (FfHaError, exit 1 or 2, one line, a hint), never a bare Error and never a stack. A few go through the real
// CLI binary. Bounded in time: the in-process loop stops at its case count or its time budget.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Chalk} from 'chalk'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {FfHaError} from '../../../src/errors.js'
import {editedFlowsFile} from '../../../src/flows/edited.js'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintWithFixes} from '../../../src/lint/engine.js'
import {applyFixes} from '../../../src/lint/fix.js'
import {FORMATS, reporters, type ReportContext} from '../../../src/lint/reporters/index.js'
import {allRules} from '../../../src/lint/rules/index.js'
import {nodeRedExampleFiles, repoRoot} from '../../fixtures/flows/corpus.js'

const SEED = 20261205
const CASES = 3000
const BUDGET_MS = 10_000

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const seeds: string[] = [readFileSync(join(repoRoot, 'examples/flows.json'), 'utf8'), ...nodeRedExampleFiles().map(f => readFileSync(f, 'utf8'))]

const HOSTILE = [
  '\u001b[2J\u001b[H',
  '\u0000\u0002\u0007',
  'a\u2028b\u2029c',
  '\u202egnp.exe',
  '\ud800',
  '__proto__',
  'constructor',
  '$share/',
  '$share//',
  '#',
  '+/+/#',
  'ff-ha-lint-disable mqtt-unshared-subscription -- x',
  'ff-ha-lint-disable',
  '"\\',
  'x'.repeat(100_000),
  '%0A::error::',
  '<![CDATA[</x>]]>&amp;',
  'subflow:',
  'subflow:nope',
  '',
]
const JUNK: unknown[] = [null, 0, -1, 1e308, -0, 1.2345678901234568e29, true, false, 'str', {}, [], [[]], [[null, 3, {}]], {a: {b: [1]}}, [['x', 'y']], {wires: [[]]}]
const KEYS = ['id', 'type', 'z', 'g', 'wires', 'topic', 'name', 'label', 'links', 'func', 'rules', 'in', 'out', 'd', 'disabled', 'info', 'server', 'broker', 'mode', 'url', 'repeat', 'crontab', 'filename', 'client', 'clientid', 'env', 'scope', 'nodes']

type Rand = () => number
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]

function deep(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth)
}

/** One mutation of a flows text: at the text level (may break the JSON) or on the parsed nodes. */
function mutate(r: Rand, text: string): {kind: string; text: string} {
  const kind = pick(r, ['flip', 'truncate', 'swap', 'hostile', 'nest', 'numbers', 'control', 'duplicate', 'splice', 'v2', 'minify'] as const)
  switch (kind) {
    case 'flip': {
      const chars = [...text]
      const n = 1 + Math.floor(r() * 4)
      for (let k = 0; k < n; k++) chars[Math.floor(r() * chars.length)] = pick(r, ['"', '{', '}', '[', ']', ',', ':', '\\', '\n', '\u0000', 'é', '\ud83d', String.fromCharCode(Math.floor(r() * 256))])
      return {kind, text: chars.join('')}
    }
    case 'truncate':
      return {kind, text: text.slice(0, Math.floor(r() * text.length))}
    case 'control': {
      // Raw control characters inside strings: not JSON; the error must point at them, not crash.
      const at = text.indexOf('"', Math.floor(r() * text.length))
      return {kind, text: at === -1 ? text + '\u0001' : text.slice(0, at + 1) + String.fromCharCode(Math.floor(r() * 32)) + text.slice(at + 1)}
    }
    case 'nest': {
      // Deep nesting, in a node's property or as the whole file.
      const depth = pick(r, [100, 5000, 50_000])
      if (r() < 0.3) return {kind, text: deep(depth)}
      return {kind, text: text.replace(/"type"\s*:/, `"deep": ${deep(depth)}, "type":`)}
    }
    case 'numbers':
      return {kind, text: text.replace(/("(?:x|y|repeat|id|z)"\s*:\s*)("[^"]*"|-?\d+(?:\.\d+)?)/, (_m, k) => k + pick(r, ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '0.0000000000000000001', '-0']))}
    case 'duplicate':
      return {kind, text: text.replace(/"topic"\s*:\s*"([^"]*)"/, '"topic": "$1", "topic": "dup/$1"')}
    case 'splice': {
      const a = Math.floor(r() * text.length)
      const b = Math.floor(r() * text.length)
      return {kind, text: text.slice(0, Math.min(a, b)) + text.slice(Math.max(a, b))}
    }
    default: {
      let nodes: unknown
      try {
        const value = JSON.parse(text)
        nodes = Array.isArray(value) ? value : value?.flows
      } catch {
        return {kind, text}
      }
      if (!Array.isArray(nodes) || nodes.length === 0) return {kind, text}
      const list = nodes as Array<Record<string, unknown>>
      const count = 1 + Math.floor(r() * 3)
      for (let k = 0; k < count; k++) {
        const node = list[Math.floor(r() * list.length)]
        if (node === null || typeof node !== 'object') continue
        const key = pick(r, KEYS)
        if (kind === 'swap') node[key] = pick(r, JUNK)
        else if (kind === 'hostile') node[key] = pick(r, HOSTILE)
        if (kind === 'swap' && r() < 0.2) list.push(node) // a duplicate id
        if (kind === 'hostile' && r() < 0.3) node.type = pick(r, ['mqtt in', 'http in', 'function', 'subflow', 'tab', 'link out', 'join', 'inject'])
      }
      try {
        if (kind === 'v2') return {kind, text: JSON.stringify({flows: list, rev: pick(r, ['1', 5, null])})}
        return {kind, text: kind === 'minify' ? JSON.stringify(list) : JSON.stringify(list, null, pick(r, [0, 2, 4, '\t']))}
      } catch {
        // The test's own JSON.stringify cannot write what an earlier 'nest' made 50,000 levels deep.
        return {kind, text}
      }
    }
  }
}

const ctx: ReportContext = {modeSource: 'default', rules: allRules, colour: new Chalk({level: 0}), version: '0'}
const STACK = /\n\s+at |\bat .*\(.*:\d+:\d+\)/

/** Parse, lint in both modes, every reporter, --fix's text edit and the report after it. */
function exercise(text: string, r: Rand): 'ok' | 'input-error' {
  let file
  try {
    file = parseFlowsText(text, pick(r, ['f.json', 'dir/e\u001b[2Jvil.json', '-']))
  } catch (err) {
    checkTyped(err)
    return 'input-error'
  }
  for (const mode of ['load-balanced', 'hot-spare'] as const) {
    const result = lintWithFixes([file], {mode, includeDisabled: r() < 0.3, shareGroup: r() < 0.5 ? 'g' : undefined})
    const {fixes, ...report} = result
    for (const format of FORMATS) {
      const out = reporters[format](report, ctx)
      expect(typeof out).toBe('string')
      if (format === 'json' || format === 'sarif') JSON.parse(out)
      if (format !== 'json' && format !== 'sarif') expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
    }
    const list = fixes.get(file.path)
    if (!list) continue
    const fixed = applyFixes(file, list)
    // A fix keeps the file JSON, and changes exactly the values it says.
    const value = JSON.parse(fixed.text)
    const nodes = Array.isArray(value) ? value : value.flows
    for (const c of fixed.changes) expect(nodes[c.index][c.key]).toBe(c.value)
    const fresh = lintWithFixes([parseFlowsText(fixed.text, file.path)], {mode})
    if (fixed.reparse) {
      // Inserted nodes (the singleton after a repeating inject): one more node per insert, each a new id.
      const inserts = list.filter(f => f.insert && fixed.applied.some(a => a.nodeId === file.nodes[f.index].id && a.key === f.key))
      expect(nodes).toHaveLength(file.nodes.length + inserts.length)
      continue
    }
    const after = lintWithFixes([editedFlowsFile(parseFlowsText(text, file.path), fixed.edits, fixed.changes)], {mode})
    expect(after.files).toEqual(fresh.files)
  }
  return 'ok'
}

function checkTyped(err: unknown): void {
  if (!(err instanceof FfHaError)) throw new Error(`not a typed error: ${(err as Error)?.stack ?? String(err)}`)
  expect([1, 2]).toContain(err.exitCode)
  expect(err.hint, err.message).toBeTruthy()
  expect(err.message).not.toContain('\n')
  expect(err.message).not.toMatch(STACK)
  expect(err.message).not.toMatch(/internal error/)
}

describe('flows fuzz', () => {
  it(`${CASES} mutated real flows files end in a result or a typed error with a hint (seed ${SEED})`, () => {
    const r = prng(SEED)
    const counts: Record<string, number> = {}
    const outcomes = {ok: 0, 'input-error': 0}
    const start = Date.now()
    let done = 0
    for (; done < CASES && Date.now() - start < BUDGET_MS; done++) {
      const first = mutate(r, pick(r, seeds))
      const kind = first.kind
      let text = first.text
      // Sometimes a second mutation on top of the first.
      if (r() < 0.3) text = mutate(r, text).text
      counts[kind] = (counts[kind] ?? 0) + 1
      try {
        outcomes[exercise(text, r)]++
      } catch (err) {
        throw new Error(`case ${done} (${kind}, seed ${SEED}): ${(err as Error).message}\n${text.slice(0, 300)}`, {cause: err})
      }
    }
    console.info(`flows fuzz: ${done} cases in ${Date.now() - start} ms: ${JSON.stringify(outcomes)} ${JSON.stringify(counts)}`)
    // Both outcomes happen, and the budget let most of the cases run (it is a bound, not the plan).
    expect(done).toBeGreaterThanOrEqual(Math.min(CASES, 1000))
    expect(outcomes.ok).toBeGreaterThan(done / 10)
    expect(outcomes['input-error']).toBeGreaterThan(done / 10)
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(10)
  }, 60_000)
})

describe('flows fuzz through the real CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-fuzz-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('a handful of mutated files: exit 0, 1 or 2, never "internal error" or a stack', async () => {
    const r = prng(SEED + 1)
    const runs: Array<{args: string[]; input?: string}> = []
    for (let k = 0; k < 6; k++) {
      const {text} = mutate(r, pick(r, seeds))
      const p = join(dir, `m${k}.json`)
      writeFileSync(p, text)
      const format = FORMATS[k % FORMATS.length]
      runs.push(k === 5 ? {args: ['-', '--format', format], input: text} : {args: [p, '--format', format, ...(k % 2 ? ['--fix'] : [])]})
    }
    for (const run of runs) {
      // bin/run.js runs dist/: `npm run build` first.
      const res = await execa(process.execPath, [join(repoRoot, 'bin/run.js'), 'lint', 'flows', ...run.args], {reject: false, input: run.input ?? '', env: {NO_COLOR: '1', FF_HA_DEBUG: ''}})
      expect([0, 1, 2], res.stderr).toContain(res.exitCode)
      expect(res.stderr).not.toMatch(/internal error/)
      expect(res.stderr).not.toMatch(STACK)
      if (res.exitCode === 2) expect(res.stderr).toMatch(/^error .*\nhint /)
    }
  }, 120_000)
})
