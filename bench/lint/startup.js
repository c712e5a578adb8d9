#!/usr/bin/env node
// npm run bench:lint runs this first; alone: node bench/lint/startup.js (needs `npm run build`: it runs the
// CLI as users do, bin/run.js on dist/ with the oclif manifest).
// Start-up on a small file: a CI run calls ff-ha many times, so a small lint is mostly start-up. Both tools run
// as CLI processes on the same small flows file (examples/flows.json), interleaved, BENCH_STARTUP_RUNS times
// each (default 15); the median counts. nrlint runs with the configuration `nrlint --init` writes (its CLI
// loads all its core rules whatever the configuration says). Also timed: `ff-ha --help`, and `node -e ""`
// (the floor: a process that loads nothing). On Node >= 22.1 the first round also fills ff-ha's compile cache. Beside the wall clock, the CPU time of each child (user + system,
// from /proc/self/stat's cutime + cstime, 10 ms ticks) is shown: on a shared machine it varies less.
// Also printed: how many modules `ff-ha lint flows` loads (ESM through a loader hook, CJS from require.cache).
import {execFileSync, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15)
// BENCH_NODE: run both CLIs with another Node binary (Node >= 22.1 has the compile cache bin/run.js enables).
const NODE = process.env.BENCH_NODE ?? process.execPath
/** The goal of issue 12: ff-ha lint flows on a small file at most 0.6x nrlint's time. */
export const STARTUP_RATIO_GOAL = 0.6

/** Children's CPU time so far (ms), or undefined off Linux. */
function childrenCpuMs() {
  if (!existsSync('/proc/self/stat')) return undefined
  // Fields after the command name "(...)": state is field 3; cutime and cstime are fields 16 and 17.
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ')
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100
}

function timeOnce(argv, cwd) {
  const cpu0 = childrenCpuMs()
  const t0 = process.hrtime.bigint()
  const r = spawnSync(NODE, argv, {cwd, stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`)
  const cpu1 = childrenCpuMs()
  return {ms, cpuMs: cpu0 === undefined ? undefined : cpu1 - cpu0}
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** How many modules a CLI run loads, and the packages among them. */
function modulesLoaded(argv, cwd) {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bench-modules-'))
  try {
    const out = join(dir, 'modules.txt')
    const hook = join(dir, 'count.mjs')
    writeFileSync(hook, [
      "import {register, createRequire} from 'node:module'",
      "import {writeFileSync} from 'node:fs'",
      `const out = ${JSON.stringify(out)}`,
      "writeFileSync(out, '')",
      `register('data:text/javascript,' + encodeURIComponent("import {appendFileSync} from 'node:fs'\\nexport async function load(url, ctx, next) { if (url.startsWith('file:')) appendFileSync(" + JSON.stringify(out) + ", url.slice(7) + '\\\\n'); return next(url, ctx) }"))`,
      'const require = createRequire(import.meta.url)',
      "process.on('exit', () => writeFileSync(out + '.cjs', Object.keys(require.cache).join('\\n') + '\\n'))",
    ].join('\n'))
    spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, ...argv], {cwd, stdio: 'ignore'})
    const files = [...new Set((readFileSync(out, 'utf8') + readFileSync(out + '.cjs', 'utf8')).split('\n').filter(Boolean).map(decodeURIComponent))]
    const pkgs = new Set(files.map(f => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter(Boolean))
    return {count: files.length, packages: [...pkgs].sort()}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export function benchStartup() {
  const bin = join(root, 'bin/run.js')
  if (!existsSync(join(root, 'dist/commands/lint/flows.js'))) throw new Error('no dist/: run `npm run build` first')
  if (!existsSync(join(root, 'oclif.manifest.json'))) console.log('warning: no oclif.manifest.json (npm run build writes it): ff-ha loads every command to list them')
  const nrlint = join(root, 'node_modules/nrlint/bin/nrlint.js')
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bench-startup-'))
  try {
    const small = join(dir, 'flows.json')
    copyFileSync(join(root, 'examples/flows.json'), small)
    // nrlint looks for .nrlintrc.js beside the flows file; this is the file its --init writes.
    writeFileSync(join(dir, '.nrlintrc.js'), execFileSync(process.execPath, [nrlint, '--init'], {encoding: 'utf8'}))
    const nodes = JSON.parse(readFileSync(small, 'utf8')).length
    const cases = {
      ffha: ['ff-ha lint flows (small file)', [bin, 'lint', 'flows', small]],
      nrlint: ['nrlint (small file)', [nrlint, small]],
      help: ['ff-ha --help', [bin, '--help']],
      node: ['node -e "" (the floor)', ['-e', '']],
    }
    const samples = Object.fromEntries(Object.keys(cases).map(k => [k, {ms: [], cpuMs: []}]))
    // Interleaved, so that a burst of load on the machine hits every tool alike.
    for (let i = 0; i < RUNS + 1; i++) {
      for (const [k, [, argv]] of Object.entries(cases)) {
        const r = timeOnce(argv, dir)
        if (i === 0) continue // the first round warms the file-system cache
        samples[k].ms.push(r.ms)
        if (r.cpuMs !== undefined) samples[k].cpuMs.push(r.cpuMs)
      }
    }
    const med = Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, {ms: median(s.ms), cpuMs: s.cpuMs.length ? median(s.cpuMs) : undefined}]))
    const version = execFileSync(NODE, ['--version'], {encoding: 'utf8'}).trim()
    console.log(`start-up on a small file (${nodes} nodes), CLI processes on Node ${version}, median of ${RUNS} interleaved runs:`)
    for (const [k, [label]] of Object.entries(cases)) {
      const cpu = med[k].cpuMs === undefined ? '' : `  (${Math.round(med[k].cpuMs)} ms CPU)`
      console.log(`  ${label.padEnd(32)} ${Math.round(med[k].ms).toString().padStart(5)} ms${cpu}`)
    }
    const ratio = med.ffha.ms / med.nrlint.ms
    const cpuRatio = med.ffha.cpuMs !== undefined && med.nrlint.cpuMs ? med.ffha.cpuMs / med.nrlint.cpuMs : undefined
    console.log(`  ratio ff-ha / nrlint: ${ratio.toFixed(2)}x wall clock${cpuRatio === undefined ? '' : `, ${cpuRatio.toFixed(2)}x CPU`} (goal <= ${STARTUP_RATIO_GOAL}x)`)
    const mods = modulesLoaded([bin, 'lint', 'flows', small], dir)
    console.log(`  ff-ha lint flows loads ${mods.count} modules from ${mods.packages.length} packages: ${mods.packages.join(', ')}`)
    return {ffhaMs: med.ffha.ms, nrlintMs: med.nrlint.ms, helpMs: med.help.ms, nodeMs: med.node.ms, ratio, cpuRatio, modules: mods}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = benchStartup()
  const ok = r.ratio <= STARTUP_RATIO_GOAL
  console.log(`${ok ? 'PASS' : 'FAIL'}  lint flows start-up <= ${STARTUP_RATIO_GOAL}x nrlint (small file): ${r.ratio.toFixed(2)}x`)
  console.log(`info  load average during the run: ${loadavg().map(l => l.toFixed(1)).join(' ')} (on ${cpus().length} cores)`)
  process.exitCode = ok ? 0 : 1
}
