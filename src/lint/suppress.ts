// Suppressions live in the `info` text (the description) of a node, its group(s) or its tab/subflow:
//   ff-ha-lint-disable RULE-ID[, RULE-ID...] -- reason
// Without rule ids, every rule is disabled there. The reason is kept for the report.
import type {FlowsModel} from '../flows/model.js'

export interface Suppression {
  /** Rule ids, or '*' for all. */
  rules: Set<string>
  reason: string
}

const DIRECTIVE = /ff-ha-lint-disable(?![\w-])([^\n]*)/g

export function parseSuppressions(info: unknown): Suppression[] {
  if (typeof info !== 'string' || !info.includes('ff-ha-lint-disable')) return []
  const out: Suppression[] = []
  for (const m of info.matchAll(DIRECTIVE)) {
    const [idsPart, ...rest] = m[1].split(/\s--\s?|^--\s?/)
    const ids = idsPart.split(/[\s,]+/).filter(Boolean)
    out.push({rules: new Set(ids.length ? ids : ['*']), reason: rest.join(' -- ').trim()})
  }
  return out
}

/** Finds the suppression that covers a node for a rule: its own info, its groups', its tab's or subflow's. */
export class SuppressionIndex {
  private readonly cache = new Map<number, Suppression[]>()
  constructor(private readonly model: FlowsModel) {}

  find(index: number, ruleId: string): Suppression | undefined {
    const seen = new Set<number>()
    for (let i: number | undefined = index; i !== undefined && i !== -1 && !seen.has(i); i = this.container(i)) {
      seen.add(i)
      for (const s of this.of(i)) if (s.rules.has(ruleId) || s.rules.has('*')) return s
    }
    // The tab or subflow covers everything in it, also through groups.
    const p = this.model.parent[index]
    if (p !== -1) for (const s of this.of(p)) if (s.rules.has(ruleId) || s.rules.has('*')) return s
    return undefined
  }

  /** The group a node sits in (`g`), or undefined. */
  private container(i: number): number | undefined {
    const g = this.model.nodes[i].g
    return typeof g === 'string' ? this.model.indexOf.get(g) : undefined
  }

  private of(i: number): Suppression[] {
    let list = this.cache.get(i)
    if (!list) this.cache.set(i, (list = parseSuppressions(this.model.nodes[i].info)))
    return list
  }
}
