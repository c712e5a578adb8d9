// Table tests for lint rules, after ESLint's RuleTester: flows that must trigger a rule (with the
// severity and words expected) and flows that must not.
import {describe, expect, it} from 'vitest'
import type {FlowNode} from '../../../../src/admin/types.js'
import {parseFlowsText} from '../../../../src/flows/parse.js'
import {lintFiles} from '../../../../src/lint/engine.js'
import type {HaMode, LintProfileView, Rule, Severity} from '../../../../src/lint/types.js'

let seq = 0
/** A flow node on tab `t` with a position (so it is not a config node). */
export function node(type: string, props: Record<string, unknown> = {}): FlowNode {
  return {id: `n${++seq}`, type, z: 't', x: 100, y: 100, wires: [], ...props} as FlowNode
}
/** A config node: no x/y, no tab. */
export function config(type: string, props: Record<string, unknown> = {}): FlowNode {
  return {id: `c${++seq}`, type, ...props} as FlowNode
}
/** Wire a -> b (first output), returning a. */
export function wire(a: FlowNode, ...to: FlowNode[]): FlowNode {
  const wires = Array.isArray(a.wires) ? (a.wires as string[][]) : []
  wires[0] = [...(wires[0] ?? []), ...to.map(t => t.id)]
  a.wires = wires
  return a
}
export const TAB: FlowNode = {id: 't', type: 'tab', label: 'Flow 1'}

export interface Case {
  name: string
  nodes: FlowNode[]
  mode?: HaMode
  /** The node that must carry the finding (default: any). */
  at?: FlowNode
  severity?: Severity
  /** Words the message must contain. */
  says?: RegExp
  count?: number
  /** What the rule reads from the HA profile (lint --profile). */
  profile?: LintProfileView
}

export function lintNodes(rule: Rule, nodes: FlowNode[], mode: HaMode, profile?: LintProfileView) {
  const file = parseFlowsText(JSON.stringify([TAB, ...nodes], null, 4), 'case.json')
  return lintFiles([file], {mode, ruleSet: [rule], profile}).files[0].findings
}

export function ruleTable(rule: Rule, table: {valid: Case[]; invalid: Case[]}): void {
  describe(`rule ${rule.meta.id}`, () => {
    it('has an id, a summary, docs, and a severity for both modes', () => {
      expect(rule.meta.id).toMatch(/^[a-z]+(-[a-z]+)*$/)
      expect(rule.meta.summary.length).toBeGreaterThan(20)
      expect(rule.meta.docs.length).toBeGreaterThan(100)
      for (const mode of ['hot-spare', 'load-balanced'] as const) expect(['off', 'info', 'warning', 'error']).toContain(rule.meta.severity[mode])
    })
    for (const c of table.valid) {
      it(`does not trigger: ${c.name}`, () => {
        const modes: HaMode[] = c.mode ? [c.mode] : ['load-balanced', 'hot-spare']
        for (const mode of modes) {
          if (rule.meta.severity[mode] === 'off') continue
          expect(lintNodes(rule, c.nodes, mode, c.profile)).toEqual([])
        }
      })
    }
    for (const c of table.invalid) {
      it(`triggers: ${c.name}`, () => {
        const findings = lintNodes(rule, c.nodes, c.mode ?? 'load-balanced', c.profile)
        expect(findings).toHaveLength(c.count ?? 1)
        const f = c.at ? findings.find(x => x.nodeId === c.at!.id) : findings[0]
        expect(f, `a finding on ${c.at?.id}`).toBeDefined()
        expect(f!.ruleId).toBe(rule.meta.id)
        if (c.severity) expect(f!.severity).toBe(c.severity)
        if (c.says) expect(f!.message).toMatch(c.says)
        expect(f!.line).toBeGreaterThan(1)
      })
    }
  })
}
