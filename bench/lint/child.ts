// One measured lint in a process of its own, so that peak memory (maxRSS) belongs to that lint alone.
// Usage: node --import tsx bench/lint/child.ts ffha|ffha-cli|ffha-fix|nrlint|nrlint-eslint FILE...
//   ffha-cli: the command's core (runLintFlows, JSON report), ffha-fix: the same with --fix, on a copy of
//   each file made before timing; both timed as one (ms), to compare --fix with a plain lint.
// Prints one JSON line: {nodes, readMs, parseMs, lintMs, lintCpuMs, ms, cpuMs, findings, fixes, peakRssMb}.
//   read:  readFileSync as UTF-8 (the same call for both tools)
//   parse: JSON.parse (nrlint); parseFlowsText = JSON.parse + checking the flows shape, keeping the ids and types it reads (ff-ha)
//   lint:  nrlint's lint(); ff-ha's node positions + model + feeding analysis + every HA rule
import {copyFileSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {Chalk} from 'chalk'
import {createRequire} from 'node:module'
import {performance} from 'node:perf_hooks'
import {parseFlowsText, type FlowsFile} from '../../src/flows/parse.js'
import {lintFiles} from '../../src/lint/engine.js'
import {runLintFlows} from '../../src/lint/run.js'

const [tool, ...files] = process.argv.slice(2)
const write = process.stdout.write.bind(process.stdout)
let nodes = 0
let findings = 0
let readMs = 0
let parseMs = 0
let lintMs = 0
let fixes = 0
/** CPU time of the lint phase (the process's, GC threads included): on a loaded machine, what the lint cost. */
let lintCpuMs = 0
const cpuSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from)
  return (d.user + d.system) / 1000
}

if (tool === 'ffha') {
  const parsed: FlowsFile[] = []
  for (const f of files) {
    const t0 = performance.now()
    const text = readFileSync(f, 'utf8')
    const t1 = performance.now()
    parsed.push(parseFlowsText(text, f))
    readMs += t1 - t0
    parseMs += performance.now() - t1
  }
  const t = performance.now()
  const c = process.cpuUsage()
  // All HA rules on, in the stricter mode; positions are found on first use, inside this lint.
  const report = lintFiles(parsed, {mode: 'load-balanced'})
  lintMs = performance.now() - t
  lintCpuMs = cpuSince(c)
  for (const f of parsed) nodes += f.nodes.length
  findings = report.summary.errors + report.summary.warnings + report.summary.infos
} else if (tool === 'ffha-cli' || tool === 'ffha-fix') {
  const fix = tool === 'ffha-fix'
  const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-bench-fix-'))
  const paths = fix ? files.map(f => join(tmp, basename(f))) : files
  if (fix) files.forEach((f, i) => copyFileSync(f, paths[i]))
  const t = performance.now()
  const r = runLintFlows({files: paths, mode: 'load-balanced', format: 'json', colour: new Chalk({level: 0}), version: '0', fix, shareGroup: 'bench'})
  lintMs = performance.now() - t
  rmSync(tmp, {recursive: true, force: true})
  // Node counts are the ffha run's (counting here would parse again, and add to this process's peak memory).
  fixes = r.json.fixes?.length ?? 0
  findings = r.report.summary.errors + r.report.summary.warnings + r.report.summary.infos
} else {
  const require = createRequire(import.meta.url)
  const linter = require('nrlint/lib/linter')
  const rules = {...require('nrlint/lib/rules'), ...(tool === 'nrlint-eslint' ? require('nrlint/lib/rules/function-eslint') : {})}
  linter.init({resolveRule: (r: string) => rules[r]})
  // What `nrlint --init` writes: every core rule on, with its default options.
  const config = {rules: Object.fromEntries(Object.keys(rules).map(r => [r, true]))}
  // nrlint logs the errors its rules throw on some real flows; keep stdout for our one line.
  console.log = () => {}
  for (const f of files) {
    const t0 = performance.now()
    const text = readFileSync(f, 'utf8')
    const t1 = performance.now()
    const parsed = JSON.parse(text)
    // nrlint takes the array; the admin API's v2 object {flows, rev} holds it.
    const flows = Array.isArray(parsed) ? parsed : parsed.flows
    const t2 = performance.now()
    const c = process.cpuUsage()
    findings += linter.lint(flows, config).length
    lintCpuMs += cpuSince(c)
    readMs += t1 - t0
    parseMs += t2 - t1
    lintMs += performance.now() - t2
    nodes += flows.length
  }
}
const ms = readMs + parseMs + lintMs
const usage = process.resourceUsage()
// CPU time of the whole process (start-up included, the same for every tool): on a shared machine it varies
// less than the wall clock, so --fix is compared with a plain lint on it too.
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000
write(JSON.stringify({nodes, readMs, parseMs, lintMs, lintCpuMs, ms, cpuMs, findings, fixes, peakRssMb: usage.maxRSS / 1024}) + '\n')
