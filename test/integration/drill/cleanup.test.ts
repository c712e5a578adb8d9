import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'
import {drillDirsUnder, processesUnder, removeScratch, runCli, scratch} from './helpers.js'

// Ctrl-C in the middle of a drill: every agent, Node-RED, HAProxy and Mosquitto that it started is gone
// and its temporary directories are removed. Bad input exits 2 before anything starts.
let dir: string

beforeAll(() => {
  dir = scratch()
})

afterAll(() => removeScratch(dir))

describe('failover-test cleanup and input errors', () => {
  it('exits 2 with one line on a bad scenario, traffic or profile, and starts nothing', async () => {
    const bad = await runCli(['failover-test', '--scenario', 'crash,meteor'], {cwd: dir, tmp: dir})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--scenario: unknown scenario "meteor"/)
    expect(bad.stderr).not.toMatch(/\n\s+at /)
    const traffic = await runCli(['failover-test', '--traffic', 'mqtt'], {cwd: dir, tmp: dir})
    expect(traffic.code).toBe(2)
    expect(traffic.stderr).toMatch(/--traffic must include http/)
    // compose defaults --url to the rendered HAProxy on the loopback; kubernetes has no such default
    const attach = await runCli(['failover-test', '--target', 'kubernetes'], {cwd: dir, tmp: dir})
    expect(attach.code).toBe(2)
    expect(attach.stderr).toMatch(/--url .* is required/)
    const profile = await runCli(['failover-test', '--profile', join(dir, 'missing.yaml')], {cwd: dir, tmp: dir})
    expect(profile.code).toBe(2)
    expect(profile.stderr).toMatch(/missing.yaml: no such file/)
    expect(processesUnder(dir)).toEqual([])
  })

  it('Ctrl-C during a drill stops every process it started and removes its directories', async () => {
    const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
    const child = spawn(process.execPath, ['--import', tsx, join(packageRoot, 'bin', 'dev.js'), 'failover-test', '--scenario', 'crash', '--iterations', '5'], {
      cwd: dir,
      env: {...process.env, TMPDIR: dir, NO_COLOR: '1', CI: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the drill did not reach its first iteration: ${stderr.slice(-1000)}`)), 150_000)
      child.stderr!.on('data', d => {
        stderr += d
        if (/crash 1\/5/.test(stderr)) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    // the set-up is up: agents, Node-RED, proxy and broker are running under dir
    expect(processesUnder(dir).length).toBeGreaterThanOrEqual(4)
    child.kill('SIGINT')
    const code = await exited
    expect(code).toBe(1)
    expect(stderr).toMatch(/interrupted/)
    expect(processesUnder(dir)).toEqual([])
    expect(drillDirsUnder(dir)).toEqual([])
  }, 200_000)
})
