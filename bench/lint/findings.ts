// Findings must not change when the linter gets faster. This writes every lint's JSON report (both modes),
// and every --fix's report, printed change and written file, for the corpus and for tiled files in every
// layout, into one directory: run it before and after a change and `diff -r` the two directories.
// Usage: node --import tsx bench/lint/findings.ts OUTDIR [CORPUS_DIR] [--big]
//   --big adds 200,000-node files (pretty and minified; lint only).
// The flows files are written under /tmp/ff-ha-findings (the same paths every run, as reports name them).
import {copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join, basename} from 'node:path'
import {Chalk} from 'chalk'
import {runLintFlows} from '../../src/lint/run.js'
import {LAYOUTS} from './layouts.js'
import {loadNodes, tile, writeFlows} from './tile.js'

const args = process.argv.slice(2)
const big = args.includes('--big')
const [out, corpusDir = '/work/shared/corpus'] = args.filter(a => !a.startsWith('--'))
const work = '/tmp/ff-ha-findings'
rmSync(work, {recursive: true, force: true})
mkdirSync(work, {recursive: true})
mkdirSync(out, {recursive: true})
const colour = new Chalk({level: 0})
const corpus = readdirSync(corpusDir).filter(f => f.endsWith('.json')).sort().map(f => join(corpusDir, f))
const base = loadNodes(corpus)

const lintCases: Array<{name: string; path: string; fix: boolean}> = []
for (const f of corpus) {
  const p = join(work, `corpus-${basename(f)}`)
  copyFileSync(f, p)
  lintCases.push({name: `corpus-${basename(f)}`, path: p, fix: true})
}
// --fix before it was made linear ran out of a 6 GB heap on 20,000 minified nodes: fixes are compared on 3,000.
for (const [layout, write] of Object.entries(LAYOUTS)) {
  for (const [size, fix] of [[3_000, true], [20_000, false]] as const) {
    const name = `tiled-${size / 1000}k-${layout}`
    const p = join(work, `${name}.json`)
    writeFlows(p, tile(base, size), write)
    lintCases.push({name, path: p, fix})
  }
}
if (big) {
  const nodes = tile(base, 200_000)
  for (const layout of ['pretty', 'minified'] as const) {
    const p = join(work, `tiled-200k-${layout}.json`)
    writeFlows(p, nodes, LAYOUTS[layout])
    lintCases.push({name: `tiled-200k-${layout}`, path: p, fix: false})
  }
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
for (const c of lintCases) {
  for (const mode of ['load-balanced', 'hot-spare'] as const) {
    const t = Date.now()
    const r = runLintFlows({files: [c.path], mode, format: 'json', colour, version: '0'})
    writeFileSync(join(out, `${c.name}.${mode}.json`), r.stdout)
    let note = ''
    if (c.fix) {
      const copy = join(work, `fix-${c.name}`)
      copyFileSync(c.path, copy)
      const dry = runLintFlows({files: [copy], mode, format: 'json', colour, version: '0', fix: true, dryRun: true})
      const fixed = runLintFlows({files: [copy], mode, format: 'json', colour, version: '0', fix: true})
      writeFileSync(join(out, `${c.name}.${mode}.fix.txt`), `${sha(dry.stdout)} dry-run stdout\n${sha(fixed.stdout)} report after --fix\n${sha(readFileSync(copy))} fixed file\n${JSON.stringify(fixed.json.fixes)}\n`)
      rmSync(copy)
      note = ', with --fix'
    }
    console.log(`${c.name} ${mode}: ${Date.now() - t} ms${note}`)
  }
}
