// lint --fix's atomic rewrite, end to end: a racy function-node counter is rewritten by runLintFlows, the fixed
// flows file is loaded by two real Node-RED replicas on ff-ha's shared context store (sqlite file), and 400
// concurrent HTTP increments spread over both end at exactly 400, each number handed out once.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {ChildProcess} from 'node:child_process'
import {Chalk} from 'chalk'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {freePorts} from '../../../src/net/free-port.js'
import {spawnNodeRed, stopChild} from '../../../src/nodered/launch.js'
import {runLintFlows, type LintFlowsOptions} from '../../../src/lint/run.js'
import {startBackend, type Backend} from '../context/backends.js'

const STORE = fileURLToPath(new URL('../../../nodes/context/store/index.js', import.meta.url))
const NODES = fileURLToPath(new URL('../../../nodes/context', import.meta.url))
const RACY = "let n = flow.get('hits') || 0;\nn += 1;\nflow.set('hits', n);\nmsg.payload = {n};\nreturn msg;"

const flows = [
  {id: 't', type: 'tab', label: 'counter'},
  {id: 'in', type: 'http in', z: 't', url: '/inc', method: 'post', x: 100, y: 100, wires: [['count']]},
  {id: 'count', type: 'function', z: 't', func: RACY, outputs: 1, x: 300, y: 100, wires: [['res']]},
  {id: 'inGet', type: 'http in', z: 't', url: '/get', method: 'get', x: 100, y: 200, wires: [['get']]},
  {id: 'get', type: 'function', z: 't', func: "msg.payload = {hits: flow.get('hits') ?? null};\nreturn msg;", outputs: 1, x: 300, y: 200, wires: [['res']]},
  {id: 'res', type: 'http response', z: 't', statusCode: '', x: 500, y: 150, wires: []},
]

function settings(config: Record<string, unknown>): string {
  return `module.exports = {
  uiPort: Number(process.env.FF_HA_NODE_RED_PORT),
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  nodesDir: ${JSON.stringify(NODES)},
  logging: {console: {level: 'warn'}},
  contextStorage: {default: 'shared', shared: {module: require(${JSON.stringify(STORE)}), config: ${JSON.stringify(config)}}},
}
`
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode})`)
    try {
      if ((await fetch(url + 'get')).status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`Node-RED at ${url} did not serve /get within 120 s`)
}

describe('a counter rewritten by lint --fix, in two real Node-RED replicas on the shared store', () => {
  let backend: Backend
  let root: string
  let fixedFunc: string
  const children: ChildProcess[] = []
  const urls: string[] = []

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ff-ha-fixed-counter-'))
    const flowsFile = join(root, 'flows.json')
    writeFileSync(flowsFile, JSON.stringify(flows, null, 4) + '\n')
    const profile = {mode: 'load-balanced', mqtt: {shareGroup: 'g', bundled: false}, http: {port: 1880, editor: true, sticky: true}, nodeRed: {contextStorage: 'shared'}} as unknown as NonNullable<LintFlowsOptions['profile']>
    runLintFlows({files: [flowsFile], fix: true, profile, format: 'json', colour: new Chalk({level: 0}), version: '0'})
    const fixed = JSON.parse(readFileSync(flowsFile, 'utf8')) as Array<{id: string; func?: string}>
    fixedFunc = fixed.find(n => n.id === 'count')!.func!
    backend = await startBackend('sqlite')
    const ports = await freePorts(2)
    for (const [i, port] of ports.entries()) {
      const userDir = join(root, `nr-${i}`)
      mkdirSync(userDir, {recursive: true})
      writeFileSync(join(userDir, 'settings.js'), settings(backend.config()))
      writeFileSync(join(userDir, 'flows.json'), JSON.stringify(fixed))
      children.push(spawnNodeRed({userDir, port, env: {}, writeSettings: false, bootStopped: false}))
      urls.push(`http://127.0.0.1:${port}/`)
    }
    await Promise.all(urls.map((u, i) => waitUp(u, children[i])))
  }, 240_000)

  afterAll(async () => {
    await Promise.all(children.map(c => stopChild(c, 3000)))
    backend?.stop()
    if (root) rmSync(root, {recursive: true, force: true})
  })

  it('the function was rewritten to the atomic increment', () => {
    expect(fixedFunc).toBe("let n = await flow.get('$atomic').increment('hits', 1);\nmsg.payload = {n};\nreturn msg;")
  })

  it('400 concurrent POST /inc over both replicas end at exactly 400, each number given once', async () => {
    const total = 400
    const seen: number[] = []
    let next = 0
    async function client(): Promise<void> {
      while (next < total) {
        const i = next++
        const res = await fetch(urls[i % 2] + 'inc', {method: 'POST'})
        expect(res.status).toBe(200)
        seen.push(((await res.json()) as {n: number}).n)
      }
    }
    await Promise.all(Array.from({length: 16}, client))
    expect(seen).toHaveLength(total)
    expect(new Set(seen).size).toBe(total)
    expect(Math.max(...seen)).toBe(total)
    for (const url of urls) await expect.poll(async () => ((await (await fetch(url + 'get')).json()) as {hits: number}).hits, {timeout: 5000}).toBe(total)
  }, 120_000)
})
