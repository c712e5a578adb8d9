#!/usr/bin/env node
// node bench/lib-choice/run.js — do the two hand-written pieces of src/flows still earn their place against a
// kept library (issue 12, point 7)? Needs `npm run build` (it imports dist/). Figures are medians of BENCH_RUNS
// (default 7) on synthetic flows files of 20,000 and 200,000 nodes (Node-RED's pretty layout, 4 spaces).
//  (1) scan.ts: after JSON.parse has accepted a file, one pass records where each node object starts, for
//      line:col in findings. A library alternative is a parser that reports positions itself (jsonc-parser's
//      visitor, momoa): it replaces JSON.parse + scan, so it wins only if it is faster than both together.
//      None is installed here; the figure printed is what it would have to beat: JSON.parse alone, and the
//      share scan adds on top (scan / JSON.parse).
//  (2) json-error.ts: on a broken file, where and what. The library compared is json-parse-better-errors
//      (installed as a dependency of a dependency; json-parse-even-better-errors, npm's successor, works the
//      same way: it reads the position out of V8's message). Per case: time and the position each gives.
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const dist = rel => import(pathToFileURL(join(root, 'dist', rel)).href)
const {scanNodeOffsets} = await dist('flows/scan.js')
const {locateJsonError} = await dist('flows/json-error.js')
const require = createRequire(import.meta.url)
const betterErrors = require('json-parse-better-errors')
const RUNS = Number(process.env.BENCH_RUNS ?? 7)

function flows(n) {
  const nodes = [{id: 'tab1', type: 'tab', label: 'Flow "1"', disabled: false, info: ''}]
  for (let i = 0; i < n; i++) {
    nodes.push({id: `n${i.toString(16).padStart(16, '0')}`, type: i % 3 ? 'function' : 'mqtt in', z: 'tab1', name: `node ${i} with "quotes" and \\ backslash`, func: 'msg.payload = msg.payload + 1;\nreturn msg;', topic: `a/b/${i}`, x: 100 + (i % 40) * 10, y: 40 + i, wires: [[`n${(i + 1).toString(16).padStart(16, '0')}`]]})
  }
  return JSON.stringify(nodes, null, 4)
}

function median(f) {
  const times = []
  let out
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now()
    out = f()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return {ms: times[Math.floor(times.length / 2)], out}
}
const ms = x => `${x.toFixed(2)} ms`.padStart(11)

console.log(`node ${process.version}, ${RUNS} runs per figure, median`)
console.log('\n(1) scan.ts: node offsets after JSON.parse')
console.log('nodes      file      JSON.parse   scan        scan/JSON.parse')
for (const n of [20000, 200000]) {
  const text = flows(n)
  const parse = median(() => JSON.parse(text))
  const scan = median(() => scanNodeOffsets(text, 0, 'array'))
  if (scan.out.length !== parse.out.length) throw new Error(`scan found ${scan.out.length} nodes, JSON.parse ${parse.out.length}`)
  console.log(`${String(n).padEnd(10)} ${(text.length / 1e6).toFixed(1).padStart(5)} MB ${ms(parse.ms)} ${ms(scan.ms)}  ${(scan.ms / parse.ms).toFixed(2)}x`)
}

console.log('\n(2) json-error.ts vs json-parse-better-errors on a broken 20,000-node file')
const good = flows(20000)
const mid = good.indexOf('"wires"', good.length >> 1)
const cases = {
  'cut short': good.slice(0, good.length >> 1),
  'trailing comma': good.slice(0, -2) + ',\n]',
  'raw line break in a string': good.slice(0, mid) + '"x": "a\nb", ' + good.slice(mid),
  'missing comma': good.slice(0, mid) + '"x": 1 ' + good.slice(mid),
  'bad literal (tru)': good.slice(0, mid) + '"x": tru, ' + good.slice(mid),
}
console.log('case                         ours        library     library/ours  ours says                        library says')
for (const [name, text] of Object.entries(cases)) {
  const ours = median(() => {
    try {
      JSON.parse(text)
    } catch (err) {
      return locateJsonError(text, err)
    }
  })
  const lib = median(() => {
    try {
      betterErrors(text)
    } catch (err) {
      return err.message
    }
  })
  const said = /position (\d+)/.exec(lib.out)
  const libSays = said ? `position ${said[1]}` : 'no position'
  console.log(`${name.padEnd(28)} ${ms(ours.ms)} ${ms(lib.ms)} ${(lib.ms / ours.ms).toFixed(2).padStart(8)}x     ${`offset ${ours.out.offset}: ${ours.out.what}`.slice(0, 32).padEnd(32)} ${libSays}`)
}
