// Completion tracking in a real Node-RED 4 runtime, in this process: a message is finished only when every
// node it reached has finished with it: fan-out, link call, subflow, a Catch flow, a node whose handler throws,
// a node that takes no `done`, and a node that never calls done() (finished by the timeout, and counted).
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

const require = createRequire(import.meta.url)
const {CompletionTracker} = require('../../../nodes/lib/completion.js')

type Summary = {timedOut: number; errors: number}
const events: Array<[string, string]> = []
const fixtures = join(import.meta.dirname, 'fixtures', 'nodes')

// A function node that waits `ms`, notes `name` and then sends (or not) and calls done.
const slow = (id: string, z: string, name: string, ms: number, wires: string[][] = [[]]) => ({
  id, z, type: 'function', name, wires, outputs: 1,
  func: `setTimeout(() => { global.get('events').push(['${name}', msg._msgid]); node.send(msg); node.done() }, ${ms}); return null;`,
})
const note = (id: string, z: string, name: string, wires: string[][] = [[]]) => ({
  id, z, type: 'function', name, wires, outputs: 1, func: `global.get('events').push(['${name}', msg._msgid]); return msg;`,
})
const source = (id: string, z: string, wires: string[]) => ({id, z, type: 'function', func: 'return msg;', wires: [wires], outputs: 1})
const tab = (id: string) => ({id, type: 'tab', label: id})

// Flow nodes need x/y: Node-RED treats nodes without them as config nodes.
const flows = [
  tab('fanout'), source('src-fanout', 'fanout', ['fa', 'fb']),
  slow('fa', 'fanout', 'fa', 80), note('fb', 'fanout', 'fb', [['fc']]), slow('fc', 'fanout', 'fc', 40),

  tab('link'), source('src-link', 'link', ['lc']),
  {id: 'lc', z: 'link', type: 'link call', links: ['lin'], linkType: 'static', timeout: '5', wires: [['after']]},
  note('after', 'link', 'after'),
  {id: 'lin', z: 'link', type: 'link in', links: [], wires: [['lslow']]},
  slow('lslow', 'link', 'link-slow', 60, [['lret']]),
  {id: 'lret', z: 'link', type: 'link out', mode: 'return', links: [], wires: []},

  {id: 'sf', type: 'subflow', name: 'slow subflow', info: '', in: [{x: 0, y: 0, wires: [{id: 'sfslow'}]}], out: [{x: 0, y: 0, wires: [{id: 'sfslow', port: 0}]}]},
  slow('sfslow', 'sf', 'subflow-slow', 60),
  tab('subflow'), source('src-subflow', 'subflow', ['si']),
  {id: 'si', z: 'subflow', type: 'subflow:sf', wires: [['post']]},
  note('post', 'subflow', 'post-subflow'),

  tab('nodone'), source('src-nodone', 'nodone', ['hang']),
  {id: 'hang', z: 'nodone', type: 'function', func: 'if (false) { node.done() }\nreturn null;', wires: [[]], outputs: 1},

  tab('throws'), source('src-throws', 'throws', ['thr', 'ok']),
  {id: 'thr', z: 'throws', type: 'ffha-test thrower', wires: []}, note('ok', 'throws', 'beside-thrower'),

  tab('caught'), source('src-caught', 'caught', ['thr2']),
  {id: 'thr2', z: 'caught', type: 'ffha-test thrower', wires: []},
  {id: 'catch', z: 'caught', type: 'catch', scope: null, uncaught: false, wires: [['cslow']]},
  slow('cslow', 'caught', 'catch-slow', 60),

  tab('complete'), source('src-complete', 'complete', ['cdone']), note('cdone', 'complete', 'before-complete'),
  {id: 'cnode', z: 'complete', type: 'complete', scope: ['cdone'], uncaught: false, wires: [['aslow']]},
  slow('aslow', 'complete', 'after-complete', 60),

  tab('donerr'), source('src-donerr', 'donerr', ['derr']),
  {id: 'derr', z: 'donerr', type: 'function', func: "node.done(new Error('done with an error'))\nreturn null;", wires: [[]], outputs: 1},
  {id: 'dcatch', z: 'donerr', type: 'catch', scope: null, uncaught: false, wires: [['dslow']]},
  slow('dslow', 'donerr', 'catch-after-done-error', 60),

  tab('fthrow'), source('src-fthrow', 'fthrow', ['ft']),
  {id: 'ft', z: 'fthrow', type: 'function', func: "throw new Error('function boom')", wires: [[]], outputs: 1},

  tab('legacy'), source('src-legacy', 'legacy', ['leg']),
  {id: 'leg', z: 'legacy', type: 'ffha-test legacy', wires: [['legslow']]}, slow('legslow', 'legacy', 'legacy-slow', 50),
].map((n: any) => (n.z ? {x: 100, y: 100, ...n} : n))

let RED: any
let tracker: any
let userDir: string

beforeAll(async () => {
  userDir = mkdtempSync(join(tmpdir(), 'ff-ha-completion-'))
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows))
  RED = require('node-red')
  RED.init(createServer(), {
    userDir, flowFile: 'flows.json', credentialSecret: 'completion-test', httpAdminRoot: false, httpNodeRoot: false,
    nodesDir: [fixtures], functionGlobalContext: {events}, logging: {console: {level: 'off'}},
    editorTheme: {tours: false, projects: {enabled: false}},
  })
  await RED.start()
  const deadline = Date.now() + 20_000
  while (!RED.nodes.getNode('src-legacy') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  if (!RED.nodes.getNode('src-legacy')) throw new Error('Node-RED did not start the test flows')
  tracker = new CompletionTracker({hooks: RED.hooks, log: RED.log}, {sweepMs: 50})
  tracker.retain()
})

afterAll(async () => {
  tracker?.release()
  await RED?.stop()
  rmSync(userDir, {recursive: true, force: true})
})

/** Send one tracked message from a source node; resolve with the summary and the names noted before the end. */
function run(sourceId: string, timeoutMs = 10_000): Promise<{summary: Summary; before: string[]; ms: number}> {
  const node = RED.nodes.getNode(sourceId)
  const msgid = RED.util.generateId()
  const started = Date.now()
  return new Promise((resolve) => {
    const entry = tracker.track(msgid, {
      timeoutMs,
      onFinished(summary: Summary) {
        const before = events.filter(([, id]) => id === msgid).map(([name]) => name)
        resolve({summary, before, ms: Date.now() - started})
      },
    })
    node.send({_msgid: msgid, payload: 'x'})
    entry.sent()
  })
}

describe('completion tracking in a real Node-RED runtime', () => {
  it('finishes a fanned-out message only after every branch, however deep, has finished', async () => {
    const {summary, before} = await run('src-fanout')
    expect(before.sort()).toEqual(['fa', 'fb', 'fc'])
    expect(summary).toEqual({timedOut: 0, errors: 0})
  })

  it('follows a link call into its target and waits for the return and the nodes after the call', async () => {
    const {summary, before} = await run('src-link')
    expect(before).toEqual(['link-slow', 'after'])
    expect(summary).toEqual({timedOut: 0, errors: 0})
  })

  it('follows a message through a subflow and out of it', async () => {
    const {summary, before} = await run('src-subflow')
    expect(before).toEqual(['subflow-slow', 'post-subflow'])
    expect(summary).toEqual({timedOut: 0, errors: 0})
  })

  it('finishes a message held by a node that never calls done() at the timeout, and counts it', async () => {
    const {summary, ms} = await run('src-nodone', 300)
    expect(summary).toEqual({timedOut: 1, errors: 0})
    expect(ms).toBeGreaterThanOrEqual(300)
  })

  it('counts a node whose handler throws as finished with an error, without waiting for the timeout', async () => {
    const {summary, before} = await run('src-throws', 60_000)
    expect(before).toEqual(['beside-thrower'])
    expect(summary).toEqual({timedOut: 0, errors: 1})
  })

  it('waits for the Catch flow that handles a throw', async () => {
    const {summary, before} = await run('src-caught', 60_000)
    expect(before).toEqual(['catch-slow'])
    expect(summary).toEqual({timedOut: 0, errors: 1})
  })

  it('waits for the flow a Complete node starts when a node finishes', async () => {
    const {summary, before} = await run('src-complete')
    expect(before).toEqual(['before-complete', 'after-complete'])
    expect(summary).toEqual({timedOut: 0, errors: 0})
  })

  it('waits for the Catch flow of a node that calls done(err)', async () => {
    const {summary, before} = await run('src-donerr', 60_000)
    expect(before).toEqual(['catch-after-done-error'])
    expect(summary).toEqual({timedOut: 0, errors: 1})
  })

  it('counts a function node that throws as finished with an error', async () => {
    const {summary} = await run('src-fthrow', 60_000)
    expect(summary).toEqual({timedOut: 0, errors: 1})
  })

  it('finishes a node whose handler takes no done when it returns, and follows what it sent', async () => {
    const {summary, before} = await run('src-legacy', 60_000)
    expect(before).toEqual(['legacy', 'legacy-slow'])
    expect(summary).toEqual({timedOut: 0, errors: 0})
  })

  it('removes its hooks when the last user releases it, and adds them again for the next', () => {
    expect(RED.hooks.has('preDeliver.ffhaAtLeastOnce')).toBe(true)
    tracker.release()
    expect(RED.hooks.has('preDeliver.ffhaAtLeastOnce')).toBe(false)
    expect(RED.hooks.has('onComplete.ffhaAtLeastOnce')).toBe(false)
    tracker.retain()
    expect(RED.hooks.has('onComplete.ffhaAtLeastOnce')).toBe(true)
  })

  it('tracks several messages at once, each to its own end', async () => {
    const results = await Promise.all([run('src-fanout'), run('src-link'), run('src-subflow'), run('src-fanout')])
    expect(results.map((r) => r.before.length)).toEqual([3, 2, 2, 3])
    expect(tracker.entries.size).toBe(0)
  })
})
