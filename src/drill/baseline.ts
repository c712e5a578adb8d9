import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import type {FlowNode} from '../admin/types.js'
import {freePort} from '../net/free-port.js'
import {spawnNodeRed} from '../nodered/launch.js'
import {stopProcess} from '../process/run.js'
import {RemoteError} from '../errors.js'
import {pollUntil} from '../io/poll.js'
import {now} from './clock.js'
import {PROBE_PATH} from './probe.js'
import type {Resources} from './processes.js'
import {ENV} from '../model/env.js'

// The baseline: what a failover would cost without a warm spare. A fresh Node-RED with the same flows,
// timed from spawn to the probe answering 200 (serving), on the same machine in the same run.

export async function measureColdStart(options: {flows: FlowNode[]; env: Record<string, string>; resources: Resources; timeoutMs?: number}): Promise<number> {
  const dir = options.resources.dir(mkdtempSync(join(tmpdir(), 'ff-ha-drill-cold-')))
  const port = await freePort()
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(options.flows))
  writeFileSync(join(dir, '.config.runtime.json'), JSON.stringify({runtimeFlowState: 'start'}))
  const started = now()
  const child = spawnNodeRed({userDir: dir, port, env: {...options.env, [ENV.replica]: 'cold-start'}, bootStopped: false})
  try {
    const timeoutMs = options.timeoutMs ?? 60_000
    return await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new RemoteError(`the cold-start Node-RED exited with code ${child.exitCode} (see ${join(dir, 'node-red.log')})`)
        try {
          const res = await request(`http://127.0.0.1:${port}${PROBE_PATH}`, {headersTimeout: 1000, bodyTimeout: 1000})
          await res.body.dump()
          return res.statusCode === 200 ? Math.round(now() - started) : undefined
        } catch {
          return undefined // not yet listening
        }
      },
      {timeoutMs, intervalMs: 5, what: 'the cold-start Node-RED serving the probe'},
    )
  } finally {
    await stopProcess(child, {graceMs: 3000, group: false})
  }
}
