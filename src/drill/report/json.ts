import type {DrillReport, ScenarioResult} from '../types.js'

/** The --json shape: the report without the raw timelines. */
export type DrillJson = Omit<DrillReport, 'scenarios'> & {scenarios: Array<Omit<ScenarioResult, 'timelines'>>}

/**
 * The documented --json shape: {target, mode, proxy, broker, baseline: {coldStartMs}, slo, scenarios:
 * [{name, iterations: [...], mttrMs: {p50, p95, max}, detectionMs: {...}, httpFailed, mqttLost,
 * mqttDuplicated, dualActiveMs, ratioToColdStart, passed, failures, skipped?}], faultClasses: [{name,
 * status: ran | skipped | not requested | unsupported, why?}], lease?, passed, startedAt, durationMs}. The raw timelines are left out (they go to the HTML report).
 */
export function drillJson(report: DrillReport): DrillJson {
  return {
    ...report,
    scenarios: report.scenarios.map(({timelines: _timelines, ...s}) => s),
  }
}
