import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import type {FlowNode} from '../admin/types.js'
import {freePort} from '../net/free-port.js'
import {spawnNodeRed} from '../nodered/launch.js'
import {stopChild} from '../nodered/launch.js'
import {now, sleep} from './clock.js'
import {PROBE_PATH} from './probe.js'
import type {Resources} from './processes.js'
import {RemoteError, TimeoutError} from '../errors.js'

// The baseline: what a failover would cost without a warm spare. A fresh Node-RED with the same flows,
// timed from spawn to the probe answering 200 (serving), on the same machine in the same run.

export async function measureColdStart(options: {flows: FlowNode[]; env: Record<string, string>; resources: Resources; timeoutMs?: number}): Promise<number> {
  const dir = options.resources.dir(mkdtempSync(join(tmpdir(), 'ff-ha-drill-cold-')))
  const port = await freePort()
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(options.flows))
  writeFileSync(join(dir, '.config.runtime.json'), JSON.stringify({runtimeFlowState: 'start'}))
  const started = now()
  const child = spawnNodeRed({userDir: dir, port, env: {...options.env, FF_HA_REPLICA: 'cold-start'}, bootStopped: false})
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000)
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new RemoteError(`the cold-start Node-RED exited with code ${child.exitCode}`, {replica: 'cold-start', hint: `see ${join(dir, 'node-red.log')}`})
      try {
        const res = await request(`http://127.0.0.1:${port}${PROBE_PATH}`, {headersTimeout: 1000, bodyTimeout: 1000})
        await res.body.dump()
        if (res.statusCode === 200) return Math.round(now() - started)
      } catch {
        // not yet listening
      }
      await sleep(5)
    }
    throw new TimeoutError(`the cold-start Node-RED did not serve the probe within ${options.timeoutMs ?? 60_000} ms`, options.timeoutMs ?? 60_000, {replica: 'cold-start', hint: `see ${join(dir, 'node-red.log')}`})
  } finally {
    await stopChild(child, 3000)
  }
}
