import {describe, expect, it} from 'vitest'
import {iterationMetrics} from '../../../src/drill/metrics.js'
import {drillHtml} from '../../../src/drill/report/html.js'
import {drillJson} from '../../../src/drill/report/json.js'
import {drillJunit} from '../../../src/drill/report/junit.js'
import {drillTable} from '../../../src/drill/report/table.js'
import {scenarioResult, skippedScenario} from '../../../src/drill/slo.js'
import {faultClassCoverage} from '../../../src/drill/targets.js'
import type {DrillReport} from '../../../src/drill/types.js'
import {hotSpareTimeline} from './synthetic.js'

const slo = {maxMttrMs: 5000, maxLostMessages: 0, maxDualActiveMs: 0}

function report(maxMttrMs = 5000): DrillReport {
  const timelines = [hotSpareTimeline({takeover: 1200}), hotSpareTimeline({takeover: 1400})]
  const iterations = timelines.map((t, i) => iterationMetrics(t, i + 1))
  const scenarios = [
    scenarioResult('crash', 'hot-spare', iterations, {...slo, maxMttrMs}, 1500, timelines),
    skippedScenario('partition', 'needs root (ip netns)'),
  ]
  return {target: 'local', mode: 'hot-spare', proxy: 'builtin', broker: 'mosquitto 127.0.0.1:1883', baseline: {coldStartMs: 1500}, slo: {...slo, maxMttrMs}, scenarios, faultClasses: faultClassCoverage('local', scenarios), passed: scenarios.every(s => s.passed), startedAt: '2026-12-01T08:00:00.000Z', durationMs: 12345}
}

describe('drill reports', () => {
  it('scenario summary: p50/p95/max, ratio to the cold start, passed within the SLO', () => {
    const s = report().scenarios[0]
    expect(s.mttrMs).toEqual({p50: 232, p95: 432, max: 432})
    expect(s.ratioToColdStart).toBe(0.155)
    expect(s.passed).toBe(true)
  })

  it('a missed MTTR SLO names the figure and the limit', () => {
    const s = report(300).scenarios[0]
    expect(s.passed).toBe(false)
    expect(s.failures).toEqual(['iteration 2: MTTR 432 ms > slo.maxMttrMs 300 ms'])
  })

  it('--json has the documented shape and leaves the raw timelines out', () => {
    const json = JSON.parse(JSON.stringify(drillJson(report()))) as Record<string, unknown> & {scenarios: Record<string, unknown>[]}
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['target', 'mode', 'proxy', 'broker', 'baseline', 'scenarios', 'passed']))
    expect(json.scenarios[0]).toMatchObject({name: 'crash', mttrMs: {p50: 232}, detectionMs: {p50: 10}, httpFailed: 66, mqttLost: 0, mqttDuplicated: 0, dualActiveMs: 0, passed: true})
    expect(json.scenarios[0].timelines).toBeUndefined()
    expect(json.scenarios[1]).toMatchObject({name: 'partition', skipped: 'needs root (ip netns)', passed: true})
    expect((json.scenarios[0].iterations as unknown[])[0]).toMatchObject({iteration: 1, faulted: 'a', newActive: 'b'})
  })

  it('JUnit: a testcase per scenario, skipped and failed ones marked', () => {
    const xml = drillJunit(report(300))
    expect(xml.match(/<testcase /g)).toHaveLength(2)
    expect(xml).toContain('<failure message="iteration 2: MTTR 432 ms &gt; slo.maxMttrMs 300 ms" type="slo">')
    expect(xml).toContain('<skipped message="needs root (ip netns)"/>')
    expect(xml).toMatch(/tests="2" failures="1"/)
    expect(balanced(xml)).toBe(true)
  })

  it('HTML: one self-contained page with an SVG timeline per iteration and no external assets', () => {
    const html = drillHtml(report())
    expect(html.match(/<svg /g)).toHaveLength(2)
    expect(html).not.toMatch(/(src|href)=|<script|url\(/)
    expect(html).toContain('<circle')
    expect(html).toContain('crash a')
    expect(balanced(html.replace(/<!doctype html>|<meta[^>]*>/g, ''))).toBe(true)
  })

  it('the table shows every scenario and the verdict', () => {
    const text = drillTable(report())
    expect(text).toMatch(/crash\s+2\s+232 ms\s+432 ms\s+432 ms/)
    expect(text).toContain('skipped: needs root (ip netns)')
    expect(text.trim().endsWith('passed')).toBe(true)
  })
})

/** Tags open and close in order (a small well-formedness check; there is no XML parser among the deps). */
function balanced(markup: string): boolean {
  const stack: string[] = []
  for (const m of markup.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, self] = m
    if (m[0].startsWith('<?')) continue
    if (self) continue
    if (closing) {
      if (stack.pop() !== name) return false
    } else stack.push(name)
  }
  return stack.length === 0
}
