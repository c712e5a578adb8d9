// The agent's failover bench: for crash, hang, freeze and graceful handover, N runs each, the time from
// the fault to the new active's flows started (its agent's "role: active" event, logged when Node-RED
// confirmed the start), beside the cold start of the same Node-RED with the same flows measured in the
// same run, and the ratio. A watcher samples both replicas' /flows/state every 20 ms for dual-active time.
import {writeFileSync, mkdtempSync, rmSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {launchNodeRed} from '../../src/nodered/launch.js'
import {freePort} from '../../src/net/free-port.js'
import type {FlowNode} from '../../src/admin/types.js'
import {PROBE_TAB_ID} from '../../src/drill/probe.js'
import {FlowsWatcher, TEST_CREDENTIAL_SECRET, TEST_TOKEN, probeFlows, sleep, startAgents, type AgentProcess, type AgentSet} from '../../harness/agents.js'

const {values} = parseArgs({options: {out: {type: 'string'}, verbose: {type: 'boolean', default: false}, runs: {type: 'string', default: '10'}, scenarios: {type: 'string', default: 'crash,hang,freeze,graceful'}, nodes: {type: 'string', default: '200'}}})
const RUNS = Number(values.runs)
const SCENARIOS = values.scenarios!.split(',') as Scenario[]
type Scenario = 'crash' | 'hang' | 'freeze' | 'graceful'

/**
 * The probe flow plus `n` nodes in a chain, so that a start has some work to do: change nodes, and every
 * tenth a function node (each function node builds a VM context when it starts: the costly kind).
 */
function benchFlows(n: number): FlowNode[] {
  const flows = probeFlows()
  for (let i = 0; i < n; i++) {
    const at = {x: 100 + (i % 20) * 40, y: 200 + Math.floor(i / 20) * 40}
    const wires = [i + 1 < n ? [`n${i + 1}`] : []]
    flows.push(
      i % 10 === 0
        ? {id: `n${i}`, type: 'function', z: PROBE_TAB_ID, func: 'return msg;', outputs: 1, ...at, wires}
        : {id: `n${i}`, type: 'change', z: PROBE_TAB_ID, rules: [{t: 'set', p: `step${i}`, pt: 'msg', to: String(i), tot: 'str'}], ...at, wires},
    )
  }
  return flows
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

async function coldStart(flows: FlowNode[], samples: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < samples; i++) {
    const userDir = mkdtempSync(join(tmpdir(), 'ff-ha-bench-cold-'))
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows))
    const port = await freePort()
    const t0 = Date.now()
    const nr = await launchNodeRed({userDir, port, env: {FF_HA_ADMIN_TOKEN: TEST_TOKEN, FF_HA_CREDENTIAL_SECRET: TEST_CREDENTIAL_SECRET, FF_HA_NODE_RED_LOG_LEVEL: 'warn'}, bootStopped: false, auth: {token: TEST_TOKEN}, timeoutMs: 90_000})
    // Serving its flows: started, and the probe endpoint answers.
    for (;;) {
      const state = await nr.client.getFlowsState().catch(() => null)
      const probe = await fetch(new URL('ff-ha/probe', nr.url)).then(r => r.status).catch(() => 0)
      if (state === 'start' && probe === 200) break
      await sleep(5)
    }
    out.push(Date.now() - t0)
    await nr.stop()
    await nr.client.close()
    rmSync(userDir, {recursive: true, force: true})
  }
  return out
}

async function activeAndSpare(set: AgentSet): Promise<{active: AgentProcess; spare: AgentProcess}> {
  const active = await set.waitForActive(120_000)
  const spare = set.agents.find(a => a !== active)!
  await spare.waitForStatus(s => s.role === 'spare', 120_000, 'spare')
  await active.waitForStatus(s => s.role === 'active', 120_000, 'active')
  return {active, spare}
}

interface Run {
  scenario: Scenario
  takeoverMs: number
  dualActiveMs: number
  dualIntervals: number
  newActive: string
}

async function oneRun(set: AgentSet, watcher: FlowsWatcher, scenario: Scenario): Promise<Run> {
  const {active, spare} = await activeAndSpare(set)
  await sleep(300)
  const fromEvents = spare.events.length
  const fromOld = active.events.length
  const since = performance.now()
  const t0 = Date.now()
  if (scenario === 'crash') active.signalNodeRed('SIGKILL')
  if (scenario === 'hang') active.signalNodeRed('SIGSTOP')
  if (scenario === 'graceful') active.signal('SIGTERM')
  if (scenario === 'freeze') {
    active.signal('SIGSTOP')
    active.signalNodeRed('SIGSTOP')
  }
  const became = await spare.waitForEvent(e => e.event === 'role' && e.role === 'active', 30_000, fromEvents).catch(err => {
    for (const a of set.agents) console.error(`${a.name}:\n${a.events.slice(-25).map(e => JSON.stringify(e)).join('\n')}`)
    throw err
  })
  const takeoverMs = Date.parse(became.ts) - t0
  if (scenario === 'freeze') {
    await sleep(300)
    active.signalNodeRed('SIGCONT')
    active.signal('SIGCONT')
    await active.waitForEvent(e => e.event === 'role' && e.role === 'fenced', 10_000, fromOld)
  }
  await sleep(400)
  if (values.verbose) {
    for (const e of [...active.events.slice(fromOld), ...spare.events.slice(fromEvents)].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts))) {
      console.error(`    +${Date.parse(e.ts) - t0} ${e.replica} ${e.event} ${JSON.stringify({...e, ts: undefined, replica: undefined, event: undefined})}`)
    }
  }
  const dual = watcher.dualActive(since)
  const run: Run = {scenario, takeoverMs, dualActiveMs: Math.round(watcher.dualActiveMs(since) * 10) / 10, dualIntervals: dual.length, newActive: spare.name}
  // Let the old active come back as a spare for the next run.
  if (scenario === 'graceful') {
    await active.exited
    active.spawn()
  }
  await active.waitForStatus(s => s.role === 'spare', 120_000, 'back as a spare')
  return run
}

async function main() {
  const flows = benchFlows(Number(values.nodes))
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bench-agent-'))
  mkdirSync(dir, {recursive: true})
  console.error(`ff-ha agent failover bench: ${RUNS} runs of ${SCENARIOS.join(', ')}; ${flows.length} nodes; default sqlite timings (lease 2000 ms, renew deadline 1500 ms, retry 200 ms, health 250/200 ms x 3)`)
  console.error('cold start of the same Node-RED with the same flows (spawn -> flows started and serving)...')
  const cold = await coldStart(flows, 5)
  const coldP50 = pct(cold, 50)
  const set = await startAgents({replicas: 2, flows, dir})
  const watcher = new FlowsWatcher(set.agents.map(a => ({name: a.name, url: a.nodeRedUrl}))).start()
  const runs: Run[] = []
  try {
    for (const scenario of SCENARIOS) {
      for (let i = 0; i < RUNS; i++) {
        const r = await oneRun(set, watcher, scenario)
        runs.push(r)
        console.error(`  ${scenario} #${i + 1}: ${r.takeoverMs} ms to ${r.newActive} active, dual-active ${r.dualActiveMs} ms`)
      }
    }
  } finally {
    await watcher.stop()
    await set.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  const rows = SCENARIOS.map(scenario => {
    const xs = runs.filter(r => r.scenario === scenario)
    const t = xs.map(r => r.takeoverMs)
    return {
      scenario,
      runs: xs.length,
      p50: pct(t, 50),
      p95: pct(t, 95),
      max: Math.max(...t),
      coldStartP50: coldP50,
      ratio: Math.round((pct(t, 50) / coldP50) * 1000) / 1000,
      dualActiveMs: xs.map(r => r.dualActiveMs),
    }
  })
  const lines = [
    `cold start (spawn -> flows started), ${cold.length} runs: p50 ${coldP50} ms, max ${Math.max(...cold)} ms`,
    'scenario   runs   p50 ms   p95 ms   max ms   cold p50   p50/cold   dual-active ms per run',
    ...rows.map(r => `${r.scenario.padEnd(10)} ${String(r.runs).padStart(4)} ${String(r.p50).padStart(8)} ${String(r.p95).padStart(8)} ${String(r.max).padStart(8)} ${String(r.coldStartP50).padStart(10)} ${r.ratio.toFixed(3).padStart(10)}   ${r.dualActiveMs.join(' ')}`),
  ]
  console.log(lines.join('\n'))
  if (values.out) writeFileSync(values.out, JSON.stringify({date: new Date().toISOString(), nodes: flows.length, cold, rows, runs}, null, 2) + '\n')
}

await main()
