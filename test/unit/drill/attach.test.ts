import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {composeFaults, kubernetesFaults} from '../../../src/drill/topology/attach.js'

// No Docker engine or Kubernetes cluster runs here: fake `docker` and `kubectl` executables on PATH
// record their argv, so that these tests check the exact command lines the drill runs.
let dir: string
let log: string
let env: NodeJS.ProcessEnv

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-drill-fakes-'))
  log = join(dir, 'argv.log')
  for (const tool of ['docker', 'kubectl']) {
    const file = join(dir, tool)
    writeFileSync(file, `#!/bin/sh\necho "${tool} $*" >> "${log}"\n`)
    chmodSync(file, 0o755)
  }
  env = {...process.env, PATH: `${dir}:${process.env.PATH}`}
})

afterEach(() => rmSync(dir, {recursive: true, force: true}))

const calls = () => readFileSync(log, 'utf8').trim().split('\n')

describe('compose faults (fake docker on PATH)', () => {
  it('crash kills the container with SIGKILL and starts it again on recovery', async () => {
    const f = composeFaults('shop', {env})
    const applied = await f.apply('crash', 'node-red-1', 123)
    await applied.after!()
    expect(calls()).toEqual(['docker compose -p shop kill -s KILL node-red-1', 'docker compose -p shop start node-red-1'])
  })

  it('hang stops Node-RED inside the container by the pid the agent reports; freeze pauses and unpauses', async () => {
    const f = composeFaults('shop', {env})
    await f.apply('hang', 'node-red-2', 57)
    const frozen = await f.apply('freeze', 'node-red-2', 57)
    await frozen.heal!()
    const stopped = await f.apply('graceful', 'node-red-2', 57)
    await stopped.after!()
    expect(calls()).toEqual([
      'docker compose -p shop exec -T node-red-2 kill -STOP 57',
      'docker compose -p shop pause node-red-2',
      'docker compose -p shop unpause node-red-2',
      'docker compose -p shop stop node-red-2',
      'docker compose -p shop start node-red-2',
    ])
  })

  it('says why partition is not run on compose', () => {
    expect(composeFaults('shop', {env}).unsupported('partition')).toMatch(/docker network disconnect/)
    expect(composeFaults('shop', {env}).unsupported('crash')).toBeUndefined()
  })
})

describe('kubernetes faults (fake kubectl on PATH)', () => {
  it('crash force-deletes the pod, graceful deletes it with its grace period, hang SIGSTOPs Node-RED by exec', async () => {
    const f = kubernetesFaults('prod', {env})
    await f.apply('crash', 'ff-ha-0', 1)
    await f.apply('graceful', 'ff-ha-1', 1)
    const hung = await f.apply('hang', 'ff-ha-0', 42)
    await hung.after!()
    expect(calls()).toEqual([
      'kubectl -n prod delete pod ff-ha-0 --grace-period=0 --force',
      'kubectl -n prod delete pod ff-ha-1 --wait=false',
      'kubectl -n prod exec ff-ha-0 -- kill -STOP 42',
      'kubectl -n prod exec ff-ha-0 -- kill -CONT 42',
    ])
  })

  it('says why freeze and partition are not run on kubernetes', () => {
    const f = kubernetesFaults('prod', {env})
    expect(f.unsupported('freeze')).toMatch(/PID 1/)
    expect(f.unsupported('partition')).toMatch(/NetworkPolicy/)
  })

  it('a failing kubectl is reported in words', async () => {
    writeFileSync(join(dir, 'kubectl'), '#!/bin/sh\necho "error: pods \\"x\\" not found" >&2\nexit 1\n')
    await expect(kubernetesFaults('prod', {env}).apply('crash', 'x', 1)).rejects.toThrow(/kubectl/)
  })
})
