// One measured lint in a process of its own, so that peak memory (maxRSS) belongs to that lint alone.
// Usage: node --import tsx bench/lint/child.ts ffha|nrlint|nrlint-eslint FILE...
// Prints one JSON line: {nodes, ms, findings, peakRssMb}. The time covers reading, parsing and linting.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {performance} from 'node:perf_hooks'
import {readFlowsFile} from '../../src/flows/parse.js'
import {lintFiles} from '../../src/lint/engine.js'

const [tool, ...files] = process.argv.slice(2)
const write = process.stdout.write.bind(process.stdout)
let nodes = 0
let findings = 0
let ms: number

if (tool === 'ffha') {
  const t = performance.now()
  const parsed = files.map(f => readFlowsFile(f))
  // All HA rules on, in the stricter mode.
  const report = lintFiles(parsed, {mode: 'load-balanced'})
  ms = performance.now() - t
  for (const f of parsed) nodes += f.nodes.length
  findings = report.summary.errors + report.summary.warnings + report.summary.infos
} else {
  const require = createRequire(import.meta.url)
  const linter = require('nrlint/lib/linter')
  const rules = {...require('nrlint/lib/rules'), ...(tool === 'nrlint-eslint' ? require('nrlint/lib/rules/function-eslint') : {})}
  linter.init({resolveRule: (r: string) => rules[r]})
  // What `nrlint --init` writes: every core rule on, with its default options.
  const config = {rules: Object.fromEntries(Object.keys(rules).map(r => [r, true]))}
  // nrlint logs the errors its rules throw on some real flows; keep stdout for our one line.
  console.log = () => {}
  const t = performance.now()
  for (const f of files) {
    const flows = JSON.parse(readFileSync(f, 'utf8'))
    nodes += flows.length
    findings += linter.lint(flows, config).length
  }
  ms = performance.now() - t
}
write(JSON.stringify({nodes, ms, findings, peakRssMb: process.resourceUsage().maxRSS / 1024}) + '\n')
