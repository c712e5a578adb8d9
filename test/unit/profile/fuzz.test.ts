import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {isMap, isScalar, isSeq, parseDocument, visit, type Document} from 'yaml'
import {FfHaError} from '../../../src/errors.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {profileYaml} from '../../../src/profile/template.js'
import {renderProject} from '../../../src/render/project.js'
import {goldenCases} from '../../golden/cases.js'

// Profile fuzz: mutate real profiles (the golden cases and what `ff-ha init` writes) with a seeded PRNG and
// run each through the loader and, when it loads, the renderers, in-process. Every case must end in rendered
// files or a typed FfHaError (exit 1 or 2) with a one-line message and a hint: never a bare Error, an
// "internal error" or a stack. A failure prints the seed and case number and the profile text to reproduce it.

const SEED = Number(process.env.FF_HA_FUZZ_SEED ?? 20261205)
const CASES = Number(process.env.FF_HA_FUZZ_CASES ?? 3000)
// The bound on the test's time: on a loaded machine it stops early (still seeded: case N is always the same
// profile) but runs at least MIN_CASES. About 4 s for the 3000 cases on an idle 2-core machine.
const BUDGET_MS = Number(process.env.FF_HA_FUZZ_BUDGET_MS ?? 20_000)
const MIN_CASES = Math.min(CASES, 1000)

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function seedProfiles(): string[] {
  const golden = goldenCases().map(c => readFileSync(join(c.dir, 'ff-ha.yaml'), 'utf8'))
  const init = (['compose', 'kubernetes'] as const).flatMap(target =>
    (['hot-spare', 'load-balanced'] as const).map(mode => profileYaml({name: 'orders', target, mode, replicas: 3, flows: 'flows.json', broker: target === 'compose' ? 'bundled' : 'mqtt://broker:1883'}, '0.1.0')),
  )
  return [...golden, ...init]
}

const HOSTILE = ['a\nb: c', '$FF_HA_ADMIN_TOKEN', '${X:-y}', 'a b;c', '"', "'", '#x', '\u001b[2J', '\u0000', '\uffff', 'x'.repeat(2000), '../../x', '*', '&', '!', '%', '@', '`', '- a', '? a', '|', '>']
const NUMBERS = ['1e400', '-1e400', '.nan', '.inf', '-.inf', '9007199254740993', '0x1F', '0o17', '-0', '1.5', '99999999999999999999999', '-1', '0']
const TAGS = ['!!binary aGVsbG8=', '!!set {a, b}', '!!omap [a: 1]', '!!timestamp 2001-12-14', '!foo bar', '!!int x', '!!float y', '!!str 1', '!!null ""', '!!bool yes']
const VALUES = ['true', 'null', '~', '[]', '{}', '[1, 2]', '{a: 1}', '""', 'yes', 'no', 'on', '2001-12-14']

type Rand = () => number
const pick = <T,>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]

/** Every key path in the document, for the mutations that work on structure. */
function paths(doc: Document): (string | number)[][] {
  const out: (string | number)[][] = []
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined
        if (typeof key !== 'string') continue
        out.push([...path, key])
        walk(pair.value, [...path, key])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        out.push([...path, i])
        walk(item, [...path, i])
      })
    }
  }
  walk(doc.contents, [])
  return out
}

const MUTATIONS: [string, (text: string, r: Rand) => string][] = [
  ['delete a key', (text, r) => {
    const doc = parseDocument(text)
    const ps = paths(doc)
    if (ps.length) doc.deleteIn(pick(r, ps))
    return doc.toString()
  }],
  ['duplicate a line', (text, r) => {
    const lines = text.split('\n')
    const i = Math.floor(r() * lines.length)
    lines.splice(i, 0, lines[i])
    return lines.join('\n')
  }],
  ['retype a value', (text, r) => {
    const doc = parseDocument(text)
    const ps = paths(doc)
    if (ps.length) doc.setIn(pick(r, ps), parseDocument(pick(r, [...VALUES, ...NUMBERS, ...TAGS])).contents)
    return doc.toString()
  }],
  ['a hostile string', (text, r) => {
    const doc = parseDocument(text)
    const ps = paths(doc)
    if (ps.length) doc.setIn(pick(r, ps), pick(r, HOSTILE))
    return doc.toString()
  }],
  ['a huge or odd number', (text, r) => {
    const lines = text.split('\n')
    const i = Math.floor(r() * lines.length)
    lines[i] = lines[i].replace(/(:\s*)(\S.*)?$/, `$1${pick(r, NUMBERS)}`)
    return lines.join('\n')
  }],
  ['a YAML tag', (text, r) => {
    const lines = text.split('\n')
    const i = Math.floor(r() * lines.length)
    lines[i] = lines[i].replace(/(:\s+)(\S.*)$/, `$1${pick(r, TAGS)}`)
    return lines.join('\n')
  }],
  ['anchors and aliases', (text, r) => {
    const lines = text.split('\n')
    const i = Math.floor(r() * lines.length)
    const j = Math.floor(r() * lines.length)
    const kind = r()
    if (kind < 0.3) lines[i] = lines[i].replace(/(:\s+)(\S)/, '$1*nope $2')
    else if (kind < 0.6) {
      lines[i] = lines[i].replace(/(:\s+)(\S)/, '$1&a $2')
      lines[j] = lines[j].replace(/(:\s+)\S.*$/, '$1*a')
    } else if (kind < 0.8) {
      lines.unshift('x0: &b0 [a, a, a, a, a, a, a, a, a, a]', 'x1: &b1 [*b0, *b0, *b0, *b0, *b0, *b0, *b0, *b0, *b0, *b0]', 'x2: &b2 [*b1, *b1, *b1, *b1, *b1, *b1, *b1, *b1, *b1, *b1]', 'x3: [*b2, *b2, *b2, *b2, *b2, *b2, *b2, *b2, *b2, *b2]')
    } else {
      lines.push('<<: *nope')
    }
    return lines.join('\n')
  }],
  ['bad indentation', (text, r) => {
    const lines = text.split('\n')
    const i = Math.floor(r() * lines.length)
    const shift = Math.floor(r() * 7) - 3
    lines[i] = shift > 0 ? ' '.repeat(shift) + lines[i] : lines[i].slice(-shift)
    return lines.join('\n')
  }],
  ['binary bytes', (text, r) => {
    const at = Math.floor(r() * (text.length + 1))
    const bytes = Array.from({length: 1 + Math.floor(r() * 8)}, () => String.fromCharCode(Math.floor(r() * 256))).join('')
    return text.slice(0, at) + bytes + text.slice(at)
  }],
  ['truncate', (text, r) => text.slice(0, Math.floor(r() * text.length))],
  ['swap two lines', (text, r) => {
    const lines = text.split('\n')
    const i = Math.floor(r() * lines.length)
    const j = Math.floor(r() * lines.length)
    ;[lines[i], lines[j]] = [lines[j], lines[i]]
    return lines.join('\n')
  }],
  ['rename a key', (text, r) => {
    const doc = parseDocument(text)
    let n = 0
    const target = Math.floor(r() * 40)
    visit(doc, {
      Pair(_, pair) {
        if (n++ === target && isScalar(pair.key) && typeof pair.key.value === 'string') pair.key.value = pair.key.value.slice(1) + pick(r, ['', 's', '_', 'X', '__proto__', 'constructor'])
      },
    })
    return doc.toString()
  }],
]

interface Failure {
  index: number
  mutations: string[]
  text: string
  error: string
}

describe('profile fuzz: mutated real profiles through the loader and the renderers', () => {
  it(`${CASES} cases (seed ${SEED}) end in files or a typed error with exit 1/2 and a hint`, () => {
    const seeds = seedProfiles()
    const r = prng(SEED)
    const failures: Failure[] = []
    const outcomes = {rendered: 0, refused: 0}
    const byMutation = new Map<string, number>()
    const started = performance.now()
    let ran = 0
    for (let index = 0; index < CASES; index++) {
      if (index >= MIN_CASES && performance.now() - started > BUDGET_MS) break
      ran++
      let text = pick(r, seeds)
      const applied: string[] = []
      const count = 1 + Math.floor(r() * 3)
      for (let m = 0; m < count; m++) {
        const [name, mutate] = pick(r, MUTATIONS)
        applied.push(name)
        try {
          text = mutate(text, r)
        } catch {
          // A mutation that the yaml library cannot apply to a broken text: keep the text as it is.
        }
      }
      for (const name of applied) byMutation.set(name, (byMutation.get(name) ?? 0) + 1)
      try {
        const profile = parseProfileText(text)
        const files = renderProject({profile, profileText: text, version: '0.1.0'})
        if (Object.keys(files).length < 4) throw new Error(`only ${Object.keys(files).length} files rendered`)
        outcomes.rendered++
      } catch (err) {
        const ok =
          err instanceof FfHaError &&
          (err.exitCode === 1 || err.exitCode === 2) &&
          typeof err.hint === 'string' &&
          err.hint.trim().length > 0 &&
          !err.message.includes('\n') &&
          !/internal error/i.test(err.message) &&
          /^ff-ha\.yaml:\d+:\d+ /.test(err.message)
        if (ok) outcomes.refused++
        else failures.push({index, mutations: applied, text, error: err instanceof FfHaError ? `${err.name}(${err.exitCode}) ${err.message} | hint: ${err.hint}` : String((err as Error)?.stack ?? err)})
      }
    }
    const ms = performance.now() - started
    console.log(`profile fuzz: ${ran} of ${CASES} cases in ${Math.round(ms)} ms (seed ${SEED}): ${outcomes.rendered} rendered, ${outcomes.refused} refused with a hint; mutations: ${[...byMutation].map(([k, v]) => `${k} ${v}`).join(', ')}`)
    expect(failures.slice(0, 5).map(f => `case ${f.index} (seed ${SEED}; ${f.mutations.join(' + ')}): ${f.error}\n--- profile ---\n${f.text.slice(0, 600)}`).join('\n\n'), `${failures.length} of ${ran} cases failed`).toBe('')
    // The fuzz exercises both outcomes and every mutation: it is not all rejected at the first byte.
    expect(ran).toBeGreaterThanOrEqual(MIN_CASES)
    expect(outcomes.rendered).toBeGreaterThan(ran / 20)
    expect(outcomes.refused).toBeGreaterThan(ran / 4)
    expect(byMutation.size).toBe(MUTATIONS.length)
  })
})
