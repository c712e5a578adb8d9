// lint --fix for context-read-modify-write: rewrite the simplest counters in a function node's code to the
// shared context store's atomic increment (docs/design/shared-context.md, the `$atomic` handle):
//
//   flow.set('n', flow.get('n') + x)                     ->  await flow.get('$atomic').increment('n', x)
//   let n = flow.get('n') || 0; n += x; flow.set('n', n) ->  let n = await flow.get('$atomic').increment('n', x)
//
// Only patterns whose meaning is certain are rewritten; anything else is left alone with the reason, which
// lint reports. The code is parsed (acorn, already installed with Node-RED) rather than matched with regular
// expressions: a pattern inside a string, a comment or a nested non-async function must not be touched.
// Node-RED runs a function node's code inside an `async function`, so a top-level `await` is valid there.
import {createRequire} from 'node:module'
import type * as Acorn from 'acorn'

type AnyNode = Acorn.AnyNode
type Scope = 'flow' | 'global' | 'context'

/** A context access `S.get(K[, store])` / `S.set(K, V[, store])` with a literal key. */
interface Access {
  scope: Scope
  /** The scope object's text as written (`flow`, `context.flow`): the rewrite keeps it. */
  scopeText: string
  op: 'get' | 'set'
  key: string
  /** The key as written (its quotes kept). */
  keyText: string
  /** The store named in the call, '' for the default store. */
  store: string
  storeText: string
  value?: AnyNode
}

export interface AtomicRewrite {
  code: string
  /** The keys rewritten, as `flow.n` / `global.hits` with their store (`''` = default). */
  keys: Array<{scope: Scope; key: string; store: string}>
}

export type RewritePlan = {ok: true; rewrite: AtomicRewrite} | {ok: false; reason: string}

const PATTERNS = "flow.set('k', flow.get('k') + x), or let v = flow.get('k') || 0; v += x; flow.set('k', v)"

let acorn: typeof Acorn | undefined
/** Loaded on first use: most lints find no counter to rewrite, and start-up counts. */
function parser(): typeof Acorn {
  return (acorn ??= createRequire(import.meta.url)('acorn') as typeof Acorn)
}

/**
 * Plan the rewrite of every read-modify-write in `code` to atomic increments. All or nothing: when one
 * read-modify-write of a key cannot be rewritten, the code is left as it is and the reason given.
 */
export function planAtomicRewrite(code: string): RewritePlan {
  try {
    return plan(code)
  } catch (err) {
    // The fuzz test feeds hostile code: a nesting deep enough to overflow the walk is left alone, never a crash.
    if (err instanceof RangeError) return {ok: false, reason: 'the code is nested too deeply to analyse'}
    throw err
  }
}

function plan(code: string): RewritePlan {
  let program: Acorn.Program
  try {
    program = parser().parse(code, {ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true})
  } catch (err) {
    return {ok: false, reason: `the code does not parse (${(err as Error).message})`}
  }
  const edits: Array<{start: number; end: number; text: string}> = []
  const keys: AtomicRewrite['keys'] = []
  let unsafe: string | undefined
  let nearMiss: string | undefined
  visitStatementLists(program, true, (list, asyncOk) => {
    for (let i = 0; i < list.length; i++) {
      const one = matchOneStatement(code, list[i])
      const three = one ? undefined : matchThreeStatements(code, list, i)
      if (typeof three === 'string') nearMiss ??= three
      const found = one ?? (typeof three === 'string' ? undefined : three)
      if (!found) continue
      if (!asyncOk) {
        unsafe ??= `the counter on ${found.access.scope}.${found.access.key} is inside a function that is not async, where await is not allowed`
        continue
      }
      edits.push(...found.edits)
      keys.push({scope: found.access.scope, key: found.access.key, store: found.access.store})
    }
  })
  if (unsafe) return {ok: false, reason: unsafe}
  if (edits.length === 0) return {ok: false, reason: nearMiss ?? (computedKey(program) ? 'the key is computed, not a literal string: which key it is is known only at run time' : `not one of the patterns --fix rewrites (${PATTERNS})`)}
  edits.sort((a, b) => b.start - a.start)
  let out = code
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end)
  // What is left must not read and write a rewritten key any more: else the node still races on it.
  const left = accessesOf(out)
  for (const k of keys) {
    const id = `${k.scope}\0${k.key}`
    if (left.reads.has(id) && left.writes.has(id)) return {ok: false, reason: `${k.scope}.${k.key} is also read and written elsewhere in the code, not only in the counter pattern`}
  }
  return {ok: true, rewrite: {code: out, keys}}
}

interface Match {
  access: Access
  edits: Array<{start: number; end: number; text: string}>
}

/** `S.set(K, S.get(K) + X)` (also `(S.get(K) || 0) + X`, `X + S.get(K)`, `- X`) as one statement. */
function matchOneStatement(code: string, stmt: AnyNode): Match | undefined {
  if (stmt.type !== 'ExpressionStatement') return undefined
  const set = contextCall(code, stmt.expression)
  if (!set || set.op !== 'set' || !set.value) return undefined
  const by = increment(code, set.value, node => {
    const get = contextCall(code, unwrapDefault(node))
    return get !== undefined && get.op === 'get' && sameKey(get, set)
  })
  if (by === undefined) return undefined
  return {access: set, edits: [{start: stmt.expression.start, end: stmt.expression.end, text: atomicCall(set, by)}]}
}

/**
 * `let v = S.get(K) || 0;` ... `v += X;` ... `S.set(K, v);` in one statement list. Statements between them
 * must not use v or the key, nor leave the code early (the increment moves to the first statement).
 */
function matchThreeStatements(code: string, list: AnyNode[], i: number): Match | string | undefined {
  const decl = list[i]
  if (decl.type !== 'VariableDeclaration' || decl.kind === 'const' || decl.declarations.length !== 1) return undefined
  const d = decl.declarations[0]
  if (d.id.type !== 'Identifier' || !d.init) return undefined
  const name = d.id.name
  const get = contextCall(code, unwrapDefault(d.init))
  if (!get || get.op !== 'get') return undefined
  const what = `${get.scope}.${get.key} (read into ${name})`
  let j = i + 1
  let by: string | undefined
  for (; j < list.length; j++) {
    by = updateOf(code, list[j], name)
    if (by !== undefined) break
    if (!inert(list[j], name, get.key)) return `${what}: ${name} or the key is used, or the code may leave, between the read and the addition`
  }
  if (by === undefined) return undefined
  const update = list[j]
  // The increment's operand moves up to the declaration: it must mean there what it meant here.
  const operandNames = identifiersIn(update)
  operandNames.delete(name)
  for (let k = i + 1; k < j; k++) for (const n of identifiersIn(list[k])) if (operandNames.has(n)) return `${what}: the amount added uses names set between the read and the addition`
  let s = j + 1
  for (; s < list.length; s++) {
    const st = list[s]
    if (st.type === 'ExpressionStatement') {
      const set = contextCall(code, st.expression)
      if (set && set.op === 'set' && sameKey(get, set) && set.value?.type === 'Identifier' && set.value.name === name) break
    }
    if (!inert(st, name, get.key)) return `${what}: ${name} or the key is used, or the code may leave, between the addition and the write`
  }
  if (s === list.length) return undefined
  const keyword = decl.kind
  return {
    access: get,
    edits: [
      {start: decl.start, end: decl.end, text: `${keyword} ${name} = ${atomicCall(get, by)};`},
      {start: update.start, end: update.end, text: ''},
      {start: list[s].start, end: list[s].end, text: ''},
    ].map(e => (e.text === '' ? widenToLine(code, e) : e)),
  }
}

/** `v += X`, `v -= X`, `v = v + X`, `v = X + v`, `v = v - X`, `v++`, `++v`, `v--`, `--v` -> the amount. */
function updateOf(code: string, stmt: AnyNode, name: string): string | undefined {
  if (stmt.type !== 'ExpressionStatement') return undefined
  const e = stmt.expression
  const isV = (n: AnyNode) => n.type === 'Identifier' && n.name === name
  if (e.type === 'UpdateExpression' && isV(e.argument)) return e.operator === '++' ? '1' : '-1'
  if (e.type !== 'AssignmentExpression' || !isV(e.left)) return undefined
  if (e.operator === '+=' || e.operator === '-=') {
    if (!operand(e.right) || identifiersIn(e.right).has(name)) return undefined
    return e.operator === '+=' ? text(code, e.right) : negate(code, e.right)
  }
  // v = v + X: X must not use v itself (v = v + v doubles, it does not add a fixed amount).
  if (e.operator !== '=' || countIdentifier(e.right, name) !== 1) return undefined
  return increment(code, e.right, isV)
}

function countIdentifier(n: AnyNode, name: string): number {
  let count = 0
  walk(n, c => {
    if (c.type === 'Identifier' && c.name === name) count++
  })
  return count
}

/** `A + X`, `X + A`, `A - X` where `isBase(A)`: the amount X as code, else undefined. */
function increment(code: string, expr: AnyNode, isBase: (n: AnyNode) => boolean): string | undefined {
  if (expr.type !== 'BinaryExpression' || (expr.operator !== '+' && expr.operator !== '-')) return undefined
  const {left, right} = expr
  if (isBase(left) && operand(right) && !mentionsContext(right)) return expr.operator === '+' ? text(code, right) : negate(code, right)
  if (expr.operator === '+' && isBase(right) && operand(left) && !mentionsContext(left)) return text(code, left)
  return undefined
}

/** An amount the rewrite can move: a number, a name, a property path, a sign, Number()/parseInt()/parseFloat(). */
function operand(n: AnyNode): boolean {
  switch (n.type) {
    case 'Literal':
      return typeof n.value === 'number'
    case 'Identifier':
      return n.name !== 'undefined'
    case 'MemberExpression':
      return n.object.type !== 'Super' && operand(n.object) && (!n.computed || n.property.type === 'Literal')
    case 'UnaryExpression':
      return (n.operator === '-' || n.operator === '+') && operand(n.argument)
    case 'CallExpression':
      return n.callee.type === 'Identifier' && ['Number', 'parseInt', 'parseFloat'].includes(n.callee.name) && n.arguments.every(a => a.type !== 'SpreadElement' && operand(a))
    default:
      return false
  }
}

function negate(code: string, n: AnyNode): string {
  if (n.type === 'Literal' && typeof n.value === 'number') return `-${text(code, n)}`
  return `-(${text(code, n)})`
}

/** `G || 0`, `G ?? 0`, `(G)`: the G. */
function unwrapDefault(n: AnyNode): AnyNode {
  if (n.type === 'LogicalExpression' && (n.operator === '||' || n.operator === '??') && n.right.type === 'Literal' && n.right.value === 0) return n.left
  return n
}

/** A statement between the pattern's parts that the rewrite may move the increment across. */
function inert(stmt: AnyNode, name: string, key: string): boolean {
  if (identifiersIn(stmt).has(name)) return false
  let ok = true
  walk(stmt, n => {
    if (['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement', 'AwaitExpression', 'YieldExpression', 'FunctionDeclaration'].includes(n.type)) ok = false
    if (n.type === 'Literal' && n.value === key) ok = false
    if (n.type === 'TemplateElement' && n.value.cooked?.includes(key)) ok = false
  })
  return ok
}

function sameKey(a: Access, b: Access): boolean {
  return a.scope === b.scope && a.key === b.key && a.store === b.store
}

function atomicCall(a: Access, by: string): string {
  const store = a.storeText ? `, ${a.storeText}` : ''
  return `await ${a.scopeText}.get('$atomic'${store}).increment(${a.keyText}, ${by})`
}

/** `flow.get('k')`, `context.global.set("k", v, 'store')`, ... with a literal key; undefined otherwise. */
function contextCall(code: string, n: AnyNode): Access | undefined {
  if (n.type !== 'CallExpression' || n.callee.type !== 'MemberExpression' || n.callee.computed || n.optional) return undefined
  const prop = n.callee.property
  if (prop.type !== 'Identifier' || (prop.name !== 'get' && prop.name !== 'set')) return undefined
  const scope = scopeOf(n.callee.object)
  if (!scope) return undefined
  const args = n.arguments
  const key = literalString(args[0])
  if (key === undefined || key === '$atomic') return undefined
  const op = prop.name
  const storeArg = op === 'get' ? args[1] : args[2]
  if (args.length > (op === 'get' ? 2 : 3)) return undefined
  if (op === 'set' && (args.length < 2 || args[1].type === 'SpreadElement')) return undefined
  let store = ''
  if (storeArg) {
    const s = literalString(storeArg)
    if (s === undefined) return undefined
    store = s
  }
  return {
    scope,
    scopeText: text(code, n.callee.object),
    op,
    key,
    keyText: text(code, args[0]),
    store,
    storeText: storeArg ? text(code, storeArg) : '',
    value: op === 'set' ? (args[1] as AnyNode) : undefined,
  }
}

function scopeOf(n: AnyNode): Scope | undefined {
  if (n.type === 'Identifier' && (n.name === 'flow' || n.name === 'global' || n.name === 'context')) return n.name
  // context.flow / context.global
  if (n.type === 'MemberExpression' && !n.computed && n.object.type === 'Identifier' && n.object.name === 'context' && n.property.type === 'Identifier') {
    if (n.property.name === 'flow' || n.property.name === 'global') return n.property.name
  }
  return undefined
}

function literalString(n: AnyNode | undefined): string | undefined {
  if (!n) return undefined
  if (n.type === 'Literal' && typeof n.value === 'string') return n.value
  if (n.type === 'TemplateLiteral' && n.expressions.length === 0) return n.quasis[0].value.cooked ?? undefined
  return undefined
}

/** Whether some context get/set names its key with an expression (`flow.get(k)`). */
function computedKey(program: AnyNode): boolean {
  let found = false
  walk(program, n => {
    if (n.type !== 'CallExpression' || n.callee.type !== 'MemberExpression' || n.callee.computed) return
    const p = n.callee.property
    if (p.type !== 'Identifier' || (p.name !== 'get' && p.name !== 'set') || !scopeOf(n.callee.object)) return
    if (n.arguments.length > 0 && literalString(n.arguments[0]) === undefined) found = true
  })
  return found
}

function mentionsContext(n: AnyNode): boolean {
  let found = false
  walk(n, c => {
    if (c.type === 'Identifier' && (c.name === 'flow' || c.name === 'global' || c.name === 'context')) found = true
  })
  return found
}

/** Keys read and written through literal context calls anywhere in `code`, as `scope\0key`. */
function accessesOf(code: string): {reads: Set<string>; writes: Set<string>} {
  const reads = new Set<string>()
  const writes = new Set<string>()
  const program = parser().parse(code, {ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true})
  walk(program, n => {
    const a = contextCall(code, n)
    if (a) (a.op === 'get' ? reads : writes).add(`${a.scope}\0${a.key}`)
  })
  return {reads, writes}
}

function identifiersIn(n: AnyNode): Set<string> {
  const names = new Set<string>()
  walk(n, c => {
    if (c.type === 'Identifier') names.add(c.name)
  })
  return names
}

/** Every node under `n` (any object with a string `type` in its properties, arrays included). */
function walk(n: AnyNode, visit: (n: AnyNode) => void): void {
  visit(n)
  for (const [k, v] of Object.entries(n)) {
    if (k === 'loc' || k === 'range') continue
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c === 'object' && typeof c.type === 'string') walk(c as AnyNode, visit)
    } else if (v && typeof v === 'object' && typeof (v as {type?: unknown}).type === 'string') walk(v as AnyNode, visit)
  }
}

/** Each list of statements (program, blocks, switch cases), with whether `await` is allowed there. */
function visitStatementLists(n: AnyNode, asyncOk: boolean, visit: (list: AnyNode[], asyncOk: boolean) => void): void {
  const isFunction = n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression'
  const here = isFunction ? n.async : asyncOk
  if (n.type === 'Program' || n.type === 'BlockStatement' || n.type === 'StaticBlock') visit(n.body as AnyNode[], here)
  if (n.type === 'SwitchCase') visit(n.consequent as AnyNode[], here)
  for (const [k, v] of Object.entries(n)) {
    if (k === 'loc' || k === 'range') continue
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c === 'object' && typeof c.type === 'string') visitStatementLists(c as AnyNode, here, visit)
    } else if (v && typeof v === 'object' && typeof (v as {type?: unknown}).type === 'string') visitStatementLists(v as AnyNode, here, visit)
  }
}

function text(code: string, n: AnyNode): string {
  return code.slice(n.start, n.end)
}

/** A removed statement alone on its line takes its line (indentation and line break) with it. */
function widenToLine(code: string, e: {start: number; end: number; text: string}): {start: number; end: number; text: string} {
  let s = e.start
  while (s > 0 && (code[s - 1] === ' ' || code[s - 1] === '\t')) s--
  let t = e.end
  while (t < code.length && (code[t] === ' ' || code[t] === '\t')) t++
  const lineStart = s === 0 || code[s - 1] === '\n'
  if (!lineStart) return e
  if (code[t] === '\r' && code[t + 1] === '\n') return {start: s, end: t + 2, text: ''}
  if (code[t] === '\n') return {start: s, end: t + 1, text: ''}
  if (t === code.length) return {start: s, end: t, text: ''}
  return e
}
