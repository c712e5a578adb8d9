import type {FlowNode} from '../../admin/types.js'
import {arrayOf} from '../../flows/model.js'
import {describeNode, feedVerdict} from '../feeding.js'
import type {Fix, Rule, RuleContext, Severity} from '../types.js'
import {modeOf} from '../../modes/index.js'
import {planAtomicRewrite} from '../atomic-rewrite.js'

type Scope = 'context' | 'flow' | 'global'

// context.get('k'), flow.get("k", "store"), global.set(`k`, v), context.flow.get(k), node.context().get(...)
const ACCESS = /\b(?:(?:node\.)?context\(\)\s*\.\s*|context\s*\.\s*)?(context|flow|global)\s*\.\s*(get|set)\s*\(\s*(?:(['"`])((?:\\.|(?!\3)[^\\])*)\3|([A-Za-z_$][\w$.]*))/g

/** Keys a function node's code reads and writes, as `scope:key`. Dynamic keys count by their expression. */
export function functionAccesses(code: string): {reads: Set<string>; writes: Set<string>} {
  const reads = new Set<string>()
  const writes = new Set<string>()
  if (!code.includes('get') || !code.includes('set')) return {reads, writes}
  for (const m of code.matchAll(ACCESS)) {
    const key = `${m[1] as Scope}:${m[4] ?? `(${m[5]})`}`
    // A dotted key ("a.b") is a property of "a": reading a.b and writing a still races.
    ;(m[2] === 'get' ? reads : writes).add(key.replace(/^(\w+:[^.([]+).*$/, '$1'))
  }
  return {reads, writes}
}

const JSONATA_CONTEXT = /\$(flow|global)Context\(\s*(['"])([^'"]+)\2/g

/** `#:(store)::key` -> key; `a.b` -> a. */
function normaliseKey(key: string): string {
  return key.replace(/^#:\([^)]*\)::/, '').replace(/^([^.[]+).*$/, '$1')
}

/** Keys a change node reads and writes. */
export function changeAccesses(rules: unknown[]): {reads: Set<string>; writes: Set<string>} {
  const reads = new Set<string>()
  const writes = new Set<string>()
  for (const r of rules as Array<Record<string, unknown>>) {
    if (!r || typeof r !== 'object') continue
    const scope = r.pt === 'flow' || r.pt === 'global' ? r.pt : undefined
    if (scope && typeof r.p === 'string') {
      const key = `${scope}:${normaliseKey(r.p)}`
      writes.add(key)
      if (r.t === 'change') reads.add(key)
    }
    if ((r.tot === 'flow' || r.tot === 'global') && typeof r.to === 'string') reads.add(`${r.tot}:${normaliseKey(r.to)}`)
    if (r.t === 'move' && (r.pt === 'flow' || r.pt === 'global') && typeof r.p === 'string') reads.add(`${r.pt}:${normaliseKey(r.p)}`)
    // JSONata's $flowContext("k") / $globalContext("k") in the value or the search expression.
    for (const expr of [r.to, r.from]) {
      if (typeof expr !== 'string' || !expr.includes('Context(')) continue
      for (const m of expr.matchAll(JSONATA_CONTEXT)) reads.add(`${m[1]}:${normaliseKey(m[3])}`)
    }
  }
  return {reads, writes}
}

// Every write that ACCESS finds contains this: code without it writes no context key, so it cannot race.
const WRITE = /\b(?:context|flow|global)\s*\.\s*set\s*\(/

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  let accesses
  if (node.type === 'function') {
    const code = typeof node.func === 'string' ? node.func : ''
    if (!code.includes('set') || !WRITE.test(code)) return
    accesses = functionAccesses(code)
  } else accesses = changeAccesses(arrayOf(node.rules))
  const {reads, writes} = accesses
  const both = [...writes].filter(k => reads.has(k))
  if (both.length === 0) return
  const keys = both.map(k => k.replace(/^(\w+):\((.*)\)$/, '$1[$2]').replace(/^(\w+):/, '$1.')).join(', ')
  let severity: Severity | undefined
  let message: string
  if (modeOf(ctx.mode).singleActive) {
    message = `Reads then writes ${keys}: with the default in-memory context store a failover loses the value, and the spare starts from empty. Use a persistent context store the spare can read, or accept the reset.`
  } else {
    const verdict = feedVerdict(ctx.feeding, index, false)
    message = `Reads then writes ${keys}, and context get/set is not atomic: replicas running this at the same time overwrite each other's updates (with a shared store), or each keeps its own diverging value (with the in-memory store). Keep this value in one place that updates atomically (ff-ha's shared context store with its atomic operations: the ff-ha atomic node, or flow.get('$atomic').increment in a function; a database; Redis INCR), or route this flow to one replica.`
    if (verdict.kind === 'spread') {
      severity = 'error'
      message += ` It is fed by ${describeNode(ctx.model, verdict.source)}, which the load balancer spreads.`
    } else if (verdict.kind === 'local') {
      severity = 'info'
      message += ` It is fed only by ${describeNode(ctx.model, verdict.source)} on the same replica, so each replica only races with itself; the values still differ between replicas.`
    } else severity = 'warning'
    const offer = atomicFix(node, index, ctx)
    message += ` ${offer.say}`
    ctx.report({index, message, severity, fix: offer.fix, notFixed: offer.notFixed})
    return
  }
  ctx.report({index, message, severity})
}

const NEEDS = "ff-ha's shared context store (profile nodeRed.contextStorage: shared)"

/** The atomic rewrite of a function node's counter, when the store it writes is ff-ha's shared one. */
function atomicFix(node: FlowNode, index: number, ctx: RuleContext): {say: string; fix?: Fix; notFixed?: string} {
  if (node.type !== 'function') {
    const why = 'a change node: --fix rewrites function nodes only (use an ff-ha atomic node for a counter)'
    return {say: `Not fixable: ${why}.`, notFixed: why}
  }
  const code = node.func as string
  const plan = planAtomicRewrite(code)
  if (!plan.ok) return {say: `--fix cannot rewrite it: ${plan.reason}.`, notFixed: plan.reason}
  const calls = plan.rewrite.keys.map(k => `await ${k.scope}.get('$atomic'${k.store ? `, '${k.store}'` : ''}).increment('${k.key}', ...)`)
  const shown = [...new Set(calls)].join(', ')
  const stores = ctx.profile?.sharedContextStores
  const outside = plan.rewrite.keys.filter(k => !stores?.has(k.store))
  if (outside.length) {
    const where = [...new Set(outside.map(k => (k.store ? `store "${k.store}"` : 'the default context store')))].join(' and ')
    const why = stores ? `${where} is not ${NEEDS}` : `without --profile, lint cannot tell that ${where} is ${NEEDS}`
    return {say: `--fix can rewrite it to the atomic ${shown} once the key is in ${NEEDS}; ${why}.`, notFixed: why}
  }
  return {say: `Fixable with --fix: rewritten to the atomic ${shown}, which needs ${NEEDS}.`, fix: {index, key: 'func', from: code, to: plan.rewrite.code}}
}

export const contextReadModifyWrite: Rule = {
  meta: {
    id: 'context-read-modify-write',
    summary: 'function and change nodes that read and then write the same context, flow or global key.',
    severity: {'load-balanced': 'error', 'hot-spare': 'warning'},
    fixable: true,
    docs:
      'Node-RED context get and set are separate calls with no atomic update. Load-balanced: a read-modify-write (a counter, a list, a last value) on several replicas loses updates with a shared store, and diverges per replica with the in-memory store; an error when a spread source (http in, shared MQTT, listeners) feeds the node, a warning otherwise, info when only a local inject does. Hot-spare: the value lives in the active replica\'s memory and is lost at failover. Reading only is not a hazard. Fix: keep such state in a store with atomic updates, or route the flow to one replica. `ff-ha lint flows --fix` (load-balanced, with --profile) rewrites the simplest function-node counters, flow.set(\'n\', flow.get(\'n\') + x) and let n = flow.get(\'n\') || 0; n += x; flow.set(\'n\', n) (global and context too), to the atomic await flow.get(\'$atomic\').increment(\'n\', x) of ff-ha\'s shared context store, when the profile makes the key\'s store that store (nodeRed.contextStorage: shared); it lists the findings it could not rewrite and why.',
  },
  types: ['function', 'change'],
  check,
}
