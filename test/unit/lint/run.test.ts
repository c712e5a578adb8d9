// The core of `ff-ha lint flows` (runLintFlows): what it refuses before touching a file, and --fix's report
// after the fix, which is built without parsing the fixed text again and must equal a fresh lint of it.
import {lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Chalk} from 'chalk'
import {afterAll, describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintFiles} from '../../../src/lint/engine.js'
import {runLintFlows, type LintFlowsOptions} from '../../../src/lint/run.js'
import {corpusFiles, repoRoot} from '../../fixtures/flows/corpus.js'

const dir = mkdtempSync(join(tmpdir(), 'ff-ha-lint-run-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const example = readFileSync(join(repoRoot, 'examples/flows.json'), 'utf8')
const lint = (opts: Partial<LintFlowsOptions> & {files: string[]}) => runLintFlows({format: 'json', colour: new Chalk({level: 0}), version: '0', ...opts})

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).hint, (err as Error).message).toBeTruthy()
    return err as InputError
  }
  throw new Error('expected an InputError')
}

describe('--output over a flows file being linted', () => {
  it('is refused by the same path, another spelling of it, or a symlink to it; the flows file is untouched', () => {
    const sub = join(dir, 'out')
    mkdirSync(sub)
    const flows = join(sub, 'f.json')
    writeFileSync(flows, example)
    symlinkSync('f.json', join(sub, 'link.json'))
    const cwd = process.cwd()
    process.chdir(sub)
    try {
      for (const [input, output] of [
        ['f.json', 'f.json'],
        ['f.json', './f.json'],
        [flows, 'f.json'],
        ['f.json', 'link.json'],
        ['link.json', flows],
      ]) {
        const err = inputError(() => lint({files: [input], output}))
        expect(err.message).toBe(`--output ${output}: is the flows file ${input} being linted; the report would replace the flows`)
        expect(readFileSync(flows, 'utf8')).toBe(example)
      }
      // Also with --fix, and with the file among others.
      writeFileSync(join(sub, 'g.json'), example)
      inputError(() => lint({files: ['g.json', 'f.json'], output: './f.json', fix: true}))
      expect(readFileSync(join(sub, 'g.json'), 'utf8')).toBe(example)
      // A report beside it is fine.
      expect(lint({files: ['f.json'], output: 'report.json'}).exitCode).toBe(1)
      expect(JSON.parse(readFileSync(join(sub, 'report.json'), 'utf8')).files[0].path).toBe('f.json')
    } finally {
      process.chdir(cwd)
    }
  })
})

describe('--fix on a symlink', () => {
  it('fixes the target and leaves the link a link', () => {
    const sub = join(dir, 'link')
    mkdirSync(join(sub, 'real'), {recursive: true})
    writeFileSync(join(sub, 'real', 'flows.json'), example)
    const link = join(sub, 'flows.json')
    symlinkSync('real/flows.json', link)
    const r = lint({files: [link], fix: true, shareGroup: 'g'})
    expect(r.json.fixes!.length).toBeGreaterThan(0)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(sub, 'real', 'flows.json'), 'utf8')).toContain('"$share/g/')
  })
})

describe('every refusal names the problem and gives a hint', () => {
  it('bad --rule, --dry-run alone, bad --share-group, a bad glob class, a glob that matches nothing', () => {
    const f = join(dir, 'h.json')
    writeFileSync(f, example)
    expect(inputError(() => lint({files: [f], rules: ['nope=off']})).hint).toMatch(/the rules are .*mqtt-unshared-subscription/)
    inputError(() => lint({files: [f], rules: ['mqtt-unshared-subscription']}))
    inputError(() => lint({files: [f], rules: ['mqtt-unshared-subscription=loud']}))
    inputError(() => lint({files: [f], dryRun: true}))
    inputError(() => lint({files: [f], shareGroup: 'a/b'}))
    inputError(() => lint({files: []}))
    expect(inputError(() => lint({files: [join(dir, 'x[z-a].json')]})).message).toMatch(/x\[z-a\]\.json: not a valid pattern \(the character class \[z-a\]\)/)
    inputError(() => lint({files: [join(dir, 'nothing-*.json')]}))
    expect(inputError(() => lint({files: [f], output: dir})).message).toBe(`--output ${dir}: is a directory`)
    expect(inputError(() => lint({files: [f], output: join(dir, 'no/such/dir/r.txt')})).message).toMatch(/its directory does not exist$/)
    expect(inputError(() => lint({files: [f], maxBytes: 100})).message).toMatch(/over the 100 bytes limit/)
    expect(inputError(() => lint({files: ['-'], maxBytes: 100, readStdin: () => { throw new InputError('stdin (-): over the 100 bytes limit for a flows file (stopped reading there)', 'raise it') }})).message).toMatch(/stdin/)
  })
})

describe('big reports', () => {
  it('160,000 findings and fixes in one file: stylish and --fix --dry-run end normally', () => {
    // Math.max(...findings) in stylish and push(...fixes) in --fix spread one argument per item, and overflow
    // the stack past ~125,000: "internal error" on a file that is only big.
    const nodes: object[] = [{id: 't', type: 'tab', label: 'T'}]
    // QoS 0: one finding and one fix per node (mqtt-unshared-subscription), none from mqtt-ack-on-arrival.
    for (let i = 0; i < 160_000; i++) nodes.push({id: `m${i}`, type: 'mqtt in', z: 't', topic: `s/${i}`, qos: '0'})
    const p = join(dir, 'big.json')
    writeFileSync(p, JSON.stringify(nodes))
    const r = lint({files: [p], format: 'stylish', fix: true, dryRun: true, shareGroup: 'g'})
    expect(r.json.fixes).toHaveLength(160_000)
    expect(r.report.summary.errors).toBe(160_000)
    expect(r.stdout).toContain('160000 problems (160000 errors, 0 warnings, 0 infos) in 1 file')
  }, 60_000)
})

describe('the report after --fix', () => {
  // The fixed file is linted from the parsed nodes with the new values, not by parsing the text again:
  // it must be exactly what a fresh lint of the written file reports, in every layout.
  const {files} = corpusFiles()
  const nodes = JSON.parse(example) as object[]
  const layouts: Record<string, string> = {
    pretty: JSON.stringify(nodes, null, 4) + '\n',
    minified: JSON.stringify(nodes),
    crlf: JSON.stringify(nodes, null, 2).replace(/\n/g, '\r\n'),
    v2: JSON.stringify({flows: nodes, rev: '1'}),
  }
  const cases = [...Object.entries(layouts), ...files.slice(0, 12).map(f => [f.replace(/^.*\//, ''), readFileSync(f, 'utf8')] as [string, string])]
  it.each(cases)('equals a fresh lint of the fixed file: %s', (name, text) => {
    for (const mode of ['load-balanced', 'hot-spare'] as const) {
      const p = join(dir, `fix-${mode}-${name}`)
      writeFileSync(p, text)
      const r = lint({files: [p], fix: true, mode, shareGroup: 'g'})
      const fresh = lintFiles([parseFlowsText(readFileSync(p, 'utf8'), p)], {mode, shareGroup: 'g'})
      expect(r.report).toEqual(fresh)
    }
  })
})
