// The failover-test --json shape against schemas/commands/failover-test.json, from a report made by the drill's
// own functions (metrics, SLO) over a synthetic timeline: a real drill needs replicas (test/integration/drill).
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import {describe, expect, it} from 'vitest'
import {iterationMetrics} from '../../../src/drill/metrics.js'
import {drillJson} from '../../../src/drill/report/json.js'
import {scenarioResult, skippedScenario} from '../../../src/drill/slo.js'
import {faultClassCoverage} from '../../../src/drill/targets.js'
import type {DrillReport} from '../../../src/drill/types.js'
import {packageRoot} from '../../../src/paths.js'
import {hotSpareTimeline} from '../drill/synthetic.js'

const schema = JSON.parse(readFileSync(join(packageRoot, 'schemas/commands/failover-test.json'), 'utf8'))

function report(): DrillReport {
  const slo = {maxMttrMs: 5000, maxLostMessages: 0, maxDualActiveMs: 0}
  const timelines = [hotSpareTimeline({takeover: 1200}), hotSpareTimeline({takeover: 1400})]
  const iterations = timelines.map((t, i) => iterationMetrics(t, i + 1))
  const scenarios = [scenarioResult('crash', 'hot-spare', iterations, slo, 1500, timelines), skippedScenario('partition', 'needs root (ip netns)')]
  return {target: 'local', mode: 'hot-spare', proxy: 'builtin', broker: 'off: no broker', baseline: {coldStartMs: 1500}, slo, scenarios, faultClasses: faultClassCoverage('local', scenarios), passed: true, startedAt: '2026-12-01T08:00:00.000Z', durationMs: 12345}
}

describe('failover-test --json', () => {
  it('validates against its schema, timelines left out', () => {
    const validate = new Ajv({allErrors: true, strict: true}).compile(schema)
    const json = JSON.parse(JSON.stringify(drillJson(report())))
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
    // With the raw timelines (what drillJson leaves out) it would not: the schema is closed.
    expect(validate(JSON.parse(JSON.stringify(report())))).toBe(false)
  })
})
