// The singleton bench (docs/design/singleton.md): three load-balanced replicas (real agents and Node-RED 4 on
// one sqlite lease file) run an inject every second -> ff-ha singleton -> POST to a counter here. Each round
// kills the holder's whole replica (agent and Node-RED, SIGKILL) and measures, at the counter:
//   kill -> first tick of the next holder, and last tick of the old holder -> first tick of the next;
// then brings the killed replica back (it rejoins as a standby). Over all rounds it counts doubled periods
// (two ticks under half a period apart) and ticks from two replicas interleaved (must both be 0).
// Anchor: the sqlite lease duration (2000 ms): a killed holder's lease must expire before anyone may take it,
// and the next holder's own inject then fires within one period.
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'
import type {FlowNode} from '../../src/admin/types.js'
import {sleep, startAgents} from '../../harness/agents.js'

const {values} = parseArgs({options: {rounds: {type: 'string', default: '5'}}})
const ROUNDS = Number(values.rounds)
const PERIOD_MS = 1000
const LEASE_MS = 2000

interface Tick {
  at: number
  replica: string
  token: number
}

const ticks: Tick[] = []
const server = createServer((req, res) => {
  let body = ''
  req.on('data', c => (body += c))
  req.on('end', () => {
    ticks.push({at: performance.now(), ...(JSON.parse(body) as Omit<Tick, 'at'>)})
    res.end('ok')
  })
})
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tick`

const flows: FlowNode[] = [
  {id: 'sgtab', type: 'tab', label: 'singleton'},
  {id: 'sgtick', type: 'inject', z: 'sgtab', repeat: '1', once: false, topic: '', payload: '', payloadType: 'date', props: [{p: 'payload'}], x: 100, y: 100, wires: [['sgone']]},
  {id: 'sgone', type: 'ff-ha singleton', z: 'sgtab', name: 'bench', x: 300, y: 100, wires: [['sgfmt']]},
  {id: 'sgfmt', type: 'function', z: 'sgtab', func: "msg.payload = {replica: env.get('FF_HA_REPLICA'), token: msg.singleton.token}\nmsg.headers = {'content-type': 'application/json'}\nreturn msg", outputs: 1, x: 500, y: 100, wires: [['sgpost']]},
  {id: 'sgpost', type: 'http request', z: 'sgtab', method: 'POST', ret: 'txt', paytoqs: 'ignore', url, tls: '', persist: false, proxy: '', authType: '', senderr: false, headers: [], x: 700, y: 100, wires: [[]]},
]

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const set = await startAgents({replicas: 3, profile: 'name: singleton-bench\nmode: load-balanced\ntarget: compose\n', flows})
const killToFirst: number[] = []
const lastToFirst: number[] = []
try {
  await Promise.all(set.agents.map(a => a.waitForStatus(s => s.role === 'active', 120_000, 'running flows')))
  await until(() => ticks.length >= 3, 30_000, 'the first ticks')
  for (let round = 0; round < ROUNDS; round++) {
    const last = ticks[ticks.length - 1]
    const victim = set.byName(last.replica)
    const killedAt = performance.now()
    victim.signalNodeRed('SIGKILL')
    victim.signal('SIGKILL')
    await until(() => ticks.some(t => t.at > killedAt && t.replica !== victim.name), 30_000, 'the next holder')
    const lastBefore = ticks.filter(t => t.at < killedAt).at(-1)!
    const first = ticks.find(t => t.at > killedAt && t.replica !== victim.name)!
    killToFirst.push(first.at - killedAt)
    lastToFirst.push(first.at - lastBefore.at)
    console.log(`round ${round + 1}: killed ${victim.name} (token ${lastBefore.token}); ${first.replica} (token ${first.token}) ticked ${Math.round(first.at - killedAt)} ms after the kill, ${Math.round(first.at - lastBefore.at)} ms after the last tick`)
    // Bring the killed replica back as a standby, and let the new holder tick a few periods.
    await victim.exited
    victim.spawn()
    await victim.waitForStatus(s => s.role === 'active', 120_000, 'back, running flows')
    const n = ticks.length
    await until(() => ticks.length >= n + 3, 30_000, 'steady ticks')
  }
} finally {
  await set.stop()
  server.close()
}

const gaps = ticks.slice(1).map((t, i) => t.at - ticks[i].at)
const doubled = gaps.filter(g => g < PERIOD_MS / 2).length
// Interleaved: a replica ticks again after another replica's tick with a newer token (two holders at once).
let interleaved = 0
let maxToken = 0
for (const t of ticks) {
  if (t.token < maxToken) interleaved++
  maxToken = Math.max(maxToken, t.token)
}
console.log(`\nsingleton bench: ${ROUNDS} kill -9 rounds of the holder's replica (3 load-balanced replicas, sqlite lease ${LEASE_MS} ms, inject every ${PERIOD_MS} ms), ${ticks.length} ticks`)
console.log(`kill -> next holder's first tick: p50 ${Math.round(pct(killToFirst, 50))} ms, max ${Math.round(Math.max(...killToFirst))} ms (anchor: lease ${LEASE_MS} ms; ratio p50 ${(pct(killToFirst, 50) / LEASE_MS).toFixed(2)}x)`)
console.log(`last tick -> next holder's first tick: p50 ${Math.round(pct(lastToFirst, 50))} ms, max ${Math.round(Math.max(...lastToFirst))} ms (expected lease + 0..1 period: ${LEASE_MS}-${LEASE_MS + PERIOD_MS} ms plus polls)`)
console.log(`doubled periods (gap < ${PERIOD_MS / 2} ms): ${doubled}; ticks with an older token after a newer one: ${interleaved}`)
if (doubled > 0 || interleaved > 0) process.exitCode = 1
