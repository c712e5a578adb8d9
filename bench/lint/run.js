#!/usr/bin/env node
// npm run bench:lint — ff-ha lint flows vs nrlint 1.2.0 on the same files, in the same run:
// (a) the real corpus (../shared/corpus, else the @node-red/nodes examples), (b) synthetic files of 20,000
// and 200,000 nodes tiled from it with fresh ids. Each lint runs in its own child process (peak memory is
// that process's maxRSS); ff-ha runs 3 times per file and the median counts. All HA rules are on.
// nrlint runs twice: with the configuration `nrlint --init` writes (all 9 core rules, including
// function-eslint, which runs ESLint on every function node), and with the 8 structural rules only (the
// faster baseline). Its default configuration is slow enough (minutes at 200k) that it runs on the corpus
// and the 20k file only; BENCH_NRLINT_FULL=1 adds the 200k file.
// Needs no build: the child imports src/ through tsx.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {loadNodes, tile, writeFlows} from './tile.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href
const child = join(root, 'bench/lint/child.ts')
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

function corpus() {
  const dir = resolve(root, '../shared/corpus')
  if (existsSync(dir)) return {label: '../shared/corpus', files: readdirSync(dir).filter(f => f.endsWith('.json')).sort().map(f => join(dir, f))}
  const ex = join(root, 'node_modules/@node-red/nodes/examples')
  const walk = d => readdirSync(d, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.json') ? [join(d, e.name)] : []))
  console.log('../shared/corpus is missing: using the @node-red/nodes examples instead')
  return {label: '@node-red/nodes examples', files: walk(ex).sort()}
}

function measure(tool, files) {
  const out = execFileSync(process.execPath, ['--max-old-space-size=4096', '--import', tsx, child, tool, ...files], {encoding: 'utf8', maxBuffer: 1 << 24})
  return JSON.parse(out.trim().split('\n').at(-1))
}

function median(list) {
  const s = [...list].sort((a, b) => a.ms - b.ms)
  return s[Math.floor(s.length / 2)]
}

const fmt = n => Math.round(n).toLocaleString('en-US')
const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-bench-lint-'))
try {
  const {label, files} = corpus()
  const base = loadNodes(files)
  const small = join(tmp, 'tiled-20k.json')
  const big = join(tmp, 'tiled-200k.json')
  writeFlows(small, tile(base, 20_000))
  writeFlows(big, tile(base, 200_000))
  const workloads = [
    {name: `corpus (${files.length} files)`, files},
    {name: 'tiled 20k', files: [small]},
    {name: 'tiled 200k', files: [big]},
  ]
  console.log(`ff-ha lint flows vs nrlint 1.2.0 — Node ${process.version}, corpus: ${label} (${fmt(base.length)} nodes)\n`)
  const rows = []
  const line = (name, r) => `${name.padEnd(26)} ${fmt(r.ms).padStart(7)} ms ${fmt((r.nodes / r.ms) * 1000).padStart(8)} nodes/s ${fmt(r.peakRssMb).padStart(6)} MB peak ${fmt(r.findings).padStart(7)} findings`
  for (const [i, w] of workloads.entries()) {
    const ours = median(Array.from({length: RUNS}, () => measure('ffha', w.files)))
    const structural = measure('nrlint', w.files)
    const full = i < 2 || process.env.BENCH_NRLINT_FULL === '1' ? measure('nrlint-eslint', w.files) : undefined
    rows.push({w, ours, structural, full})
    console.log(`${w.name}: ${fmt(ours.nodes)} nodes`)
    console.log('  ' + line('ff-ha (all HA rules)', ours))
    if (full) console.log('  ' + line('nrlint (--init defaults)', full) + `   ff-ha is ${(full.ms / ours.ms).toFixed(1)}x faster`)
    console.log('  ' + line('nrlint (no function-eslint)', structural) + `   ff-ha is ${(structural.ms / ours.ms).toFixed(1)}x faster`)
  }
  const [rc, r20, r200] = rows
  const perNode20 = (r20.ours.ms / r20.ours.nodes) * 1000
  const perNode200 = (r200.ours.ms / r200.ours.nodes) * 1000
  const growth = perNode200 / perNode20
  const ratio = r => (r.full ? r.full.ms / r.ours.ms : NaN)
  console.log(`\ntime per node (ff-ha): ${perNode20.toFixed(2)} us at 20k, ${perNode200.toFixed(2)} us at 200k (x${growth.toFixed(2)})`)
  const checks = [
    ['throughput >= 10x nrlint (--init defaults) on the corpus', ratio(rc) >= 10, `${ratio(rc).toFixed(1)}x`],
    ['throughput >= 10x nrlint (--init defaults) at 20k', ratio(r20) >= 10, `${ratio(r20).toFixed(1)}x`],
    ...(r200.full ? [['throughput >= 10x nrlint (--init defaults) at 200k', ratio(r200) >= 10, `${ratio(r200).toFixed(1)}x`]] : []),
    ['time per node at 200k within 1.5x of 20k', growth <= 1.5, `x${growth.toFixed(2)}`],
    ['peak memory < 1 GB at 200k', r200.ours.peakRssMb < 1024, `${fmt(r200.ours.peakRssMb)} MB`],
  ]
  for (const [what, ok, value] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}: ${value}`)
  console.log(`info  against nrlint without function-eslint: ${(rc.structural.ms / rc.ours.ms).toFixed(1)}x (corpus), ${(r20.structural.ms / r20.ours.ms).toFixed(1)}x (20k), ${(r200.structural.ms / r200.ours.ms).toFixed(1)}x (200k)`)
  process.exitCode = checks.every(c => c[1]) ? 0 : 1
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
