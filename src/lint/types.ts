// The linter's vocabulary. LintReport is the documented --json contract (README.md, `ff-ha lint flows`); a test
// (test/unit/lint/contract.test.ts) checks its shape.
import type {FlowNode} from '../admin/types.js'
import type {FlowsModel} from '../flows/model.js'
import type {HaMode} from '../profile/schema.js'
import type {Feeding} from './feeding.js'

export type {HaMode} from '../profile/schema.js'
export type Severity = 'error' | 'warning' | 'info'
export type RuleSetting = Severity | 'off'
export {MODE_IDS as HA_MODES} from '../modes/index.js'

export interface Finding {
  ruleId: string
  severity: Severity
  nodeId: string
  nodeType: string
  /** The node's name, '' when it has none. */
  nodeName: string
  /** Label of the tab (or name of the subflow) the node sits in; '' for global config nodes. */
  tab: string
  line: number
  column: number
  message: string
  /** For a node inside a subflow definition: the instances that use it, as `name (tab)`. */
  instances?: string[]
  /** True when `--fix` can rewrite it. */
  fixable?: boolean
}

export interface SuppressedFinding {
  ruleId: string
  nodeId: string
  line: number
  column: number
  /** The text after `--` in the ff-ha-lint-disable comment. */
  reason: string
}

export interface FileReport {
  path: string
  findings: Finding[]
  suppressed: SuppressedFinding[]
}

export interface LintReport {
  mode: HaMode
  files: FileReport[]
  summary: {errors: number; warnings: number; infos: number; suppressed: number}
}

/** A text change `--fix` can make: set a string property of one node, or (with `insert`) replace its
 * `wires` and add a node after it in the file. */
export interface Fix {
  index: number
  key: string
  from: string
  to: string
  /** Replace the node's wires with `wires` and insert `node` right after it (lint --fix's singleton). */
  insert?: {wires: string[][]; node: FlowNode}
}

/** A finding of a fixable rule that --fix leaves as it is, and why. */
export interface NotFixed {
  ruleId: string
  nodeId: string
  nodeType: string
  line: number
  column: number
  reason: string
}

/** What rules read from the HA profile (lint --profile); rules see none without a profile. */
export interface LintProfileView {
  /** http.sticky: cookie-based sticky sessions in the rendered proxy. */
  sticky: boolean
  /** Context stores that are ff-ha's shared store: the default store ('' ) and/or named ones. */
  sharedContextStores: ReadonlySet<string>
}

export interface RuleMeta {
  id: string
  /** One line: what the rule finds. */
  summary: string
  /** Default severity in each HA mode; 'off' where the rule does not apply. */
  severity: Record<HaMode, RuleSetting>
  /** The hazard and the fix, for the README and SARIF help text. */
  docs: string
  fixable?: boolean
}

export interface RuleContext {
  mode: HaMode
  model: FlowsModel
  /** Where each node's messages come from (computed on first use). */
  readonly feeding: Feeding
  /** The MQTT share group for fixes and messages. */
  shareGroup: string
  /** The HA profile's settings rules read, when lint has one (--profile). */
  profile?: LintProfileView
  /** Severity defaults to the rule's for this mode; a rule may lower it and say why in the message.
   * `notFixed`: why --fix leaves a finding of a fixable rule as it is (listed with --fix). */
  report(finding: {index: number; message: string; severity?: Severity; fix?: Fix; notFixed?: string}): void
}

export interface Rule {
  meta: RuleMeta
  /** Node types the rule looks at, or a test on the type. */
  types: readonly string[] | ((type: string) => boolean)
  check(node: FlowNode, index: number, ctx: RuleContext): void
}
