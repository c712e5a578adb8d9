// How long does a large deploy keep Node-RED from answering? Boots one Node-RED (rendered settings), pings
// GET /flows/state every 50 ms, POSTs a flows file of SIZE_MB, and prints the answer gaps.
import {performance} from 'node:perf_hooks'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {freePort} from '../../src/net/free-port.js'
import {launchNodeRed} from '../../src/nodered/launch.js'
import {bigFlows} from '../../harness/big-flows.js'

const SIZE_MB = Number(process.env.SIZE_MB ?? 10)
const STARTED = process.env.FLOWS !== 'stopped'
const token = 'probe-token-0123456789'
const dir = mkdtempSync(join(tmpdir(), 'ff-ha-probe-'))
const port = await freePort()
const nr = await launchNodeRed({userDir: dir, port, env: {FF_HA_ADMIN_TOKEN: token, FF_HA_CREDENTIAL_SECRET: 'probe-secret-0123', FF_HA_NODE_RED_LOG_LEVEL: 'warn'}, auth: {token}, bootStopped: !STARTED, timeoutMs: 60_000})
const flows = bigFlows(SIZE_MB * 1024 * 1024)
const t0 = performance.now()
let stop = false
const gaps: string[] = []
const ping = async () => {
  let last = performance.now()
  while (!stop) {
    const t = performance.now()
    try {
      const res = await request(`http://127.0.0.1:${port}/flows/state`, {headers: {authorization: `Bearer ${token}`}, headersTimeout: 60_000})
      await res.body.dump()
    } catch {
      // a failed probe still counts: the time between answers is what this measures
    }
    const now = performance.now()
    if (now - t > 200) gaps.push(`${Math.round(t - t0)}..${Math.round(now - t0)} ms: ${Math.round(now - t)} ms without an answer`)
    last = now
    await new Promise(r => setTimeout(r, 50))
  }
  void last
}
const pinger = ping()
await new Promise(r => setTimeout(r, 300))
const tPost = performance.now()
const {rev} = await nr.client.postFlows(flows, {type: 'full'})
const tAnswer = performance.now()
if (STARTED) await nr.client.waitForFlowsStarted(rev, 120_000)
const tStarted = performance.now()
await new Promise(r => setTimeout(r, 1000))
stop = true
await pinger
const rss = Number((await import('node:fs')).readFileSync(`/proc/${nr.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)![1]) / 1024
console.log(`${SIZE_MB} MB (${flows.length} nodes), flows ${STARTED ? 'running' : 'stopped'}: POST sent at ${Math.round(tPost - t0)} ms, answered after ${Math.round(tAnswer - tPost)} ms, flows started after ${Math.round(tStarted - tPost)} ms; Node-RED peak RSS ${Math.round(rss)} MB`)
for (const g of gaps) console.log('  gap ' + g)
await nr.stop()
await nr.client.close()
rmSync(dir, {recursive: true, force: true})
