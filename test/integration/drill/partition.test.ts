import {execFileSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {netnsUnavailable} from '../../../src/drill/topology/netns.js'
import {drillDirsUnder, processesUnder, removeScratch, runDrill, scratch, type CliRun, type DrillJson} from './helpers.js'

// The partition drill needs root (ip netns). CI runs as root; elsewhere this file is skipped, and the
// drill itself reports the scenario as skipped with the reason (checked in the cleanup test's input run).
const why = netnsUnavailable()
const PROFILE = `name: drill-partition
slo:
  maxMttrMs: 15000
  maxLostMessages: 1000
`

let dir: string
let run: CliRun
let json: DrillJson

describe.skipIf(why !== undefined)('failover-test partition (network namespaces, as root)', () => {
  beforeAll(async () => {
    dir = scratch()
    const drill = await runDrill(dir, PROFILE, ['--scenario', 'partition', '--iterations', '1'])
    run = drill.run
    json = drill.json
  }, 300_000)

  afterAll(() => removeScratch(dir))

  it('the cut-off active gives up (witness unreachable), a spare takes over, never two running flows', () => {
    const s = json.scenarios[0]
    expect(s.name).toBe('partition')
    expect(s.failures).toEqual([])
    const it = s.iterations[0]
    expect(it.newActive).not.toBeNull()
    expect(it.newActive).not.toBe(it.faulted)
    expect(it.dualActiveMs).toBe(0)
    expect(it.mttrMs).toBeLessThan(10_000)
    expect(run.code).toBe(0)
  })

  it('removes its namespaces, links and processes', () => {
    const namespaces = execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})
    expect(namespaces).not.toMatch(/ffha-/)
    expect(execFileSync('ip', ['link'], {encoding: 'utf8'})).not.toMatch(/ffb[0-9a-z]{5}|ffv[0-9a-z]{5}/)
    expect(processesUnder(dir)).toEqual([])
    expect(drillDirsUnder(dir)).toEqual([])
  })
})
