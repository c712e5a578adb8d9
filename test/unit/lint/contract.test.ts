// The --json / --format json output is a documented contract (README.md, `ff-ha lint flows`). This test pins its
// shape: a change here is a breaking change for scripts and for the deploy helper.
import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import {z} from 'zod'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintFiles} from '../../../src/lint/engine.js'
import {formatJson} from '../../../src/lint/reporters/json.js'
import {allRules} from '../../../src/lint/rules/index.js'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {repoRoot} from '../../fixtures/flows/corpus.js'

const severity = z.enum(['error', 'warning', 'info'])
const finding = z.object({
  ruleId: z.string(),
  severity,
  nodeId: z.string(),
  nodeType: z.string(),
  nodeName: z.string(),
  tab: z.string(),
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  message: z.string().min(1),
  instances: z.array(z.string()).optional(),
  fixable: z.literal(true).optional(),
}).strict()
const count = z.number().int().nonnegative()
export const lintReportSchema = z.object({
  mode: z.enum(['hot-spare', 'load-balanced']),
  modeSource: z.enum(['flag', 'profile', 'default']),
  files: z.array(z.object({
    path: z.string(),
    findings: z.array(finding),
    suppressed: z.array(z.object({ruleId: z.string(), nodeId: z.string(), line: count, column: count, reason: z.string()}).strict()),
  }).strict()),
  summary: z.object({errors: count, warnings: count, infos: count, suppressed: count}).strict(),
}).strict()

describe('the JSON report contract', () => {
  const example = parseFlowsText(readFileSync(join(repoRoot, 'examples/flows.json'), 'utf8'), 'examples/flows.json')
  const report = lintFiles([example], {mode: 'load-balanced'})
  const json = JSON.parse(formatJson(report, {modeSource: 'default', rules: allRules, colour: new Chalk({level: 0}), version: '0'}))

  it('has exactly the documented fields', () => {
    expect(() => lintReportSchema.parse(json)).not.toThrow()
  })

  it('keeps the documented field order of a finding', () => {
    expect(Object.keys(json.files[0].findings[0]).slice(0, 9)).toEqual(['ruleId', 'severity', 'nodeId', 'nodeType', 'nodeName', 'tab', 'line', 'column', 'message'])
  })

  it('summary counts agree with the findings', () => {
    const all = json.files.flatMap((f: {findings: Array<{severity: string}>}) => f.findings)
    expect(json.summary.errors).toBe(all.filter((f: {severity: string}) => f.severity === 'error').length)
    expect(json.summary.warnings).toBe(all.filter((f: {severity: string}) => f.severity === 'warning').length)
    expect(json.summary.infos).toBe(all.filter((f: {severity: string}) => f.severity === 'info').length)
    expect(json.summary.suppressed).toBe(1)
  })

  it('lintFiles (the deploy helper\'s entry) returns the same shape without modeSource', () => {
    expect(() => lintReportSchema.omit({modeSource: true}).parse(JSON.parse(JSON.stringify(report)))).not.toThrow()
  })
})
