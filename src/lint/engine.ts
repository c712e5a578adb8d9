// The lint engine: one pass over each file's nodes, each node handed to the rules that look at its type.
// Used by `ff-ha lint flows` and by the deploy helper (lint before push). Never prints, never exits.
import type {FlowNode} from '../admin/types.js'
import {InputError} from '../errors.js'
import {buildModel, type FlowsModel} from '../flows/model.js'
import type {FlowsFile} from '../flows/parse.js'
import {computeFeeding, type Feeding} from './feeding.js'
import {allRules} from './rules/index.js'
import {SuppressionIndex} from './suppress.js'
import type {FileReport, Finding, Fix, HaMode, LintProfileView, LintReport, NotFixed, Rule, RuleContext, RuleSetting, Severity} from './types.js'

export interface LintOptions {
  mode: HaMode
  /** Per-rule severity overrides (`--rule ID=off|info|warning|error`). */
  rules?: Record<string, RuleSetting>
  includeDisabled?: boolean
  /** MQTT share group for fixes (`$share/<group>/<topic>`); default: the file's base name. */
  shareGroup?: string
  /** The rules to run (tests); default: all. */
  ruleSet?: readonly Rule[]
  /** What rules read from the HA profile (--profile). */
  profile?: LintProfileView
}

export interface LintResult extends LintReport {
  /** The fixes found, by file path, for `--fix`. Not part of the JSON contract. */
  fixes: Map<string, Fix[]>
  /** Findings of fixable rules that --fix cannot rewrite, by file path, with the reason. */
  notFixed: Map<string, NotFixed[]>
}

export function lintFiles(files: FlowsFile[], options: LintOptions): LintReport {
  const {fixes: _fixes, notFixed: _notFixed, ...report} = lintWithFixes(files, options)
  return report
}

export function lintWithFixes(files: FlowsFile[], options: LintOptions): LintResult {
  const ruleSet = options.ruleSet ?? allRules
  for (const id of Object.keys(options.rules ?? {})) {
    if (!ruleSet.some(r => r.meta.id === id)) throw new InputError(`--rule ${id}: no such rule`, `the rules are ${ruleSet.map(r => r.meta.id).join(', ')}`)
  }
  const active = ruleSet.filter(r => settingOf(r, options) !== 'off')
  const reports: FileReport[] = []
  const fixes = new Map<string, Fix[]>()
  const notFixed = new Map<string, NotFixed[]>()
  for (const file of files) {
    const fileFixes: Fix[] = []
    const fileNotFixed: NotFixed[] = []
    reports.push(lintOne(file, active, options, fileFixes, fileNotFixed))
    if (fileFixes.length) fixes.set(file.path, fileFixes)
    if (fileNotFixed.length) notFixed.set(file.path, fileNotFixed)
  }
  const summary = {errors: 0, warnings: 0, infos: 0, suppressed: 0}
  for (const r of reports) {
    summary.suppressed += r.suppressed.length
    for (const f of r.findings) {
      if (f.severity === 'error') summary.errors++
      else if (f.severity === 'warning') summary.warnings++
      else summary.infos++
    }
  }
  return {mode: options.mode, files: reports, summary, fixes, notFixed}
}

function settingOf(rule: Rule, options: LintOptions): RuleSetting {
  return options.rules?.[rule.meta.id] ?? rule.meta.severity[options.mode]
}

function lintOne(file: FlowsFile, rules: Rule[], options: LintOptions, fixes: Fix[], notFixed: NotFixed[]): FileReport {
  const model = buildModel(file)
  const includeDisabled = options.includeDisabled ?? false
  const suppressions = new SuppressionIndex(model)
  const report: FileReport = {path: file.path, findings: [], suppressed: []}
  let feeding: Feeding | undefined
  let rule: Rule = rules[0]
  const ctx: RuleContext = {
    mode: options.mode,
    model,
    get feeding() {
      return (feeding ??= computeFeeding(model, includeDisabled))
    },
    shareGroup: options.shareGroup ?? defaultShareGroup(file.path),
    profile: options.profile,
    report({index, message, severity, fix, notFixed: why}) {
      const pos = file.positionOf(index)
      const s = suppressions.find(index, rule.meta.id)
      if (s) {
        report.suppressed.push({ruleId: rule.meta.id, nodeId: model.nodes[index].id, line: pos.line, column: pos.column, reason: s.reason})
        return
      }
      const override = options.rules?.[rule.meta.id]
      const base = rule.meta.severity[options.mode] as Severity
      const finding = makeFinding(model, index, rule.meta.id, override && override !== 'off' ? override : severity ?? base, message, pos)
      if (fix) {
        finding.fixable = true
        fixes.push(fix)
      } else if (why) notFixed.push({ruleId: rule.meta.id, nodeId: finding.nodeId, nodeType: finding.nodeType, line: pos.line, column: pos.column, reason: why})
      report.findings.push(finding)
    },
  }
  // The rules that look at each type, decided once per type; the loop reads no node object itself.
  const rulesOfType = model.types.map(type => rules.filter(r => (typeof r.types === 'function' ? r.types(type) : r.types.includes(type))))
  const {nodes, typeOf, disabled} = model
  for (let i = 0; i < nodes.length; i++) {
    const list = rulesOfType[typeOf[i]]
    if (list.length === 0) continue
    if (!includeDisabled && disabled[i] === 1) continue
    for (rule of list) rule.check(nodes[i], i, ctx)
  }
  report.findings.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId))
  return report
}

function makeFinding(model: FlowsModel, index: number, ruleId: string, severity: Severity, message: string, pos: {line: number; column: number}): Finding {
  const node: FlowNode = model.nodes[index]
  const p = model.parent[index]
  const finding: Finding = {
    ruleId,
    severity,
    nodeId: node.id,
    nodeType: node.type,
    nodeName: typeof node.name === 'string' ? node.name : '',
    tab: p === -1 ? '' : model.labelOf(p),
    line: pos.line,
    column: pos.column,
    message,
  }
  if (p !== -1 && model.nodes[p].type === 'subflow') {
    const instances = model.instances.get(model.nodes[p].id) ?? []
    finding.instances = instances.map(i => {
      const name = typeof model.nodes[i].name === 'string' && model.nodes[i].name ? String(model.nodes[i].name) : model.nodes[i].id
      const ip = model.parent[i]
      return ip === -1 ? name : `${name} (${model.labelOf(ip)})`
    })
    const shown = finding.instances.slice(0, 5).join(', ') + (instances.length > 5 ? `, and ${instances.length - 5} more` : '')
    finding.message += instances.length
      ? ` In subflow "${finding.tab}", so in ${instances.length === 1 ? 'its one instance' : `each of its ${instances.length} instances`}: ${shown}.`
      : ` In subflow "${finding.tab}", which no node uses yet.`
  }
  return finding
}

/** `$share/<group>/...`: the flows file's base name, made safe for a share group. */
export function defaultShareGroup(path: string): string {
  const base = path === '-' ? '' : path.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '')
  const safe = base.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '')
  return safe || 'ff-ha'
}
