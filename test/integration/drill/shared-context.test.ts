import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {removeScratch, runDrill, scratch, type CliRun, type DrillJson} from './helpers.js'

// The drill's freeze scenario on a hot-spare set with ff-ha's shared context store (sqlite, beside the
// drill's lease): the probe's writer appends the running replica's name to a shared log every 200 ms. The
// frozen active wakes after the takeover; the report shows no write of it accepted after the new active's
// first, and how many the fence refused.
const PROFILE = `name: drill-ctx
mode: hot-spare
nodeRed:
  contextStorage: shared
slo:
  maxMttrMs: 15000
`

type Iteration = DrillJson['scenarios'][number]['iterations'][number] & {sharedContext?: {writes: number; staleWrites: number; refused: number}}

let dir: string
let run: CliRun
let json: DrillJson

beforeAll(async () => {
  dir = scratch()
  const drill = await runDrill(dir, PROFILE, ['--scenario', 'freeze,crash', '--iterations', '1', '--traffic', 'http', '--rate', '20'])
  run = drill.run
  json = drill.json
}, 280_000)

afterAll(() => removeScratch(dir))

describe('failover-test with the shared context store (local hot-spare, freeze)', () => {
  it('reports the fenced writes: none of the old active after the takeover', () => {
    expect(run.stderr).not.toMatch(/internal error/)
    for (const name of ['freeze', 'crash']) {
      const s = json.scenarios.find(x => x.name === name)!
      expect(s.skipped).toBeUndefined()
      const it = s.iterations[0] as Iteration
      expect(it.sharedContext).toBeDefined()
      expect(it.sharedContext!.writes).toBeGreaterThan(5)
      expect(it.sharedContext!.staleWrites).toBe(0)
      expect(s.failures.filter(f => f.includes('shared-context'))).toEqual([])
      console.log(`[drill shared-context] ${name}: ${JSON.stringify(it.sharedContext)} (faulted ${it.faulted}, new active ${it.newActive})`)
    }
  })
})
