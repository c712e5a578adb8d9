import {describe, expect, it} from 'vitest'
import {drillHtml} from '../../../src/drill/report/html.js'
import {drillJson} from '../../../src/drill/report/json.js'
import {drillTable} from '../../../src/drill/report/table.js'
import {skippedScenario, scenarioResult} from '../../../src/drill/slo.js'
import {faultClassCoverage, TARGET_SUPPORT, unsupportedOn} from '../../../src/drill/targets.js'
import {ALL_SCENARIOS, FAULT_CLASSES, type DrillReport, type DrillTarget} from '../../../src/drill/types.js'
import {iterationMetrics} from '../../../src/drill/metrics.js'
import {hotSpareTimeline} from './synthetic.js'

const TARGETS: DrillTarget[] = ['local', 'hosts', 'compose', 'kubernetes']

describe('every drill target answers for every fault class', () => {
  it.each(TARGETS)('%s: each scenario runs there, or one sentence says why not', target => {
    const support = TARGET_SUPPORT[target]
    expect(Object.keys(support).sort()).toEqual([...ALL_SCENARIOS].sort())
    for (const scenario of ALL_SCENARIOS) {
      const why = support[scenario]
      if (why === null) continue
      // one sentence: starts with a letter, ends with a full stop, no second sentence, no line break
      expect(why, `${target} ${scenario}`).toMatch(/^[a-z][^\n]*\.$/i)
      expect(why.slice(0, -1), `${target} ${scenario}: one sentence`).not.toMatch(/\.\s+[A-Z]/)
    }
  })

  it('the hosts target runs every fault class and the etcd faults; host-loss runs nowhere else', () => {
    for (const s of ALL_SCENARIOS) expect(unsupportedOn('hosts', s), s).toBeUndefined()
    for (const t of TARGETS.filter(t => t !== 'hosts')) expect(unsupportedOn(t, 'host-loss'), t).toMatch(/hosts|node/)
    expect(unsupportedOn('kubernetes', 'freeze')).toMatch(/PID 1/)
    expect(unsupportedOn('local', 'crash')).toBeUndefined()
  })

  it('the report lists every fault class in order, ran / skipped / not requested / unsupported', () => {
    const timelines = [hotSpareTimeline({takeover: 1200})]
    const scenarios = [scenarioResult('crash', 'hot-spare', timelines.map((t, i) => iterationMetrics(t, i + 1)), {maxMttrMs: 5000, maxLostMessages: 0, maxDualActiveMs: 0}, 1500, timelines), skippedScenario('partition', 'needs root for ip netns')]
    const coverage = faultClassCoverage('kubernetes', scenarios)
    expect(coverage.slice(0, FAULT_CLASSES.length).map(c => c.name)).toEqual([...FAULT_CLASSES])
    expect(coverage.find(c => c.name === 'crash')).toEqual({name: 'crash', status: 'ran'})
    expect(coverage.find(c => c.name === 'hang')).toEqual({name: 'hang', status: 'not requested'})
    expect(coverage.find(c => c.name === 'freeze')).toMatchObject({status: 'unsupported', why: expect.stringMatching(/PID 1/)})
    // partition cannot run on kubernetes at all: the target's reason wins over the machine's
    expect(coverage.find(c => c.name === 'partition')).toMatchObject({status: 'unsupported'})
    // the etcd faults are the hosts target's own: listed there, not on kubernetes
    expect(coverage.map(c => c.name)).not.toContain('etcd-outage')
    expect(faultClassCoverage('hosts', []).map(c => c.name)).toEqual([...ALL_SCENARIOS])
    expect(faultClassCoverage('local', [skippedScenario('partition', 'needs root for ip netns')]).find(c => c.name === 'partition')).toEqual({name: 'partition', status: 'skipped', why: 'needs root for ip netns'})

    const report: DrillReport = {target: 'kubernetes', mode: 'hot-spare', proxy: 'external', broker: 'off: no --mqtt-url', baseline: {coldStartMs: null}, slo: {maxMttrMs: 5000, maxLostMessages: 0, maxDualActiveMs: 0}, scenarios, faultClasses: coverage, passed: true, startedAt: '2026-12-01T08:00:00.000Z', durationMs: 1}
    const table = drillTable(report)
    expect(table).toContain('fault classes on the kubernetes target:')
    for (const c of FAULT_CLASSES) expect(table).toMatch(new RegExp(`^  ${c} +(ran|not requested|unsupported|skipped)`, 'm'))
    expect(drillJson(report).faultClasses).toEqual(coverage)
    // the HTML summary: one row per fault class, in the same order
    const html = drillHtml(report)
    const rows = [...html.matchAll(/<tr><td>([a-z-]+)<\/td>/g)].map(m => m[1])
    expect(rows).toEqual(coverage.map(c => c.name))
    expect(html).toMatch(/<td>host-loss<\/td><td colspan="11" class="skip"[^>]*>unsupported: not on kubernetes/)
  })
})
