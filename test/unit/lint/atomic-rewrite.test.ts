// lint --fix's rewrite of function-node counters to the shared store's atomic increment. Each rewritten code is
// run, as Node-RED runs a function node (inside an async function), against a fake context: the same final
// value as the original code run one at a time, and no plain get/set of the key left (so no lost update).
import {describe, expect, it} from 'vitest'
import {planAtomicRewrite} from '../../../src/lint/atomic-rewrite.js'

type Call = {scope: string; op: string; key: string; store?: string}

/** flow / global / context objects over one Map per scope, recording every call; `$atomic` as the store has it. */
function fakeContext() {
  const data = {flow: new Map<string, unknown>(), global: new Map<string, unknown>(), context: new Map<string, unknown>()}
  const calls: Call[] = []
  const scope = (name: keyof typeof data) => ({
    get(key: string, store?: string) {
      calls.push({scope: name, op: 'get', key, store})
      if (key === '$atomic') {
        return {
          async increment(k: string, by = 1) {
            calls.push({scope: name, op: 'increment', key: k, store})
            // As nodes/context/store/value.js: a non-number amount is refused, absent counts as 0.
            if (typeof by !== 'number' || !Number.isFinite(by)) throw new TypeError(`increment by ${JSON.stringify(by)}: not a finite number`)
            const next = ((data[name].get(k) as number | undefined) ?? 0) + by
            data[name].set(k, next)
            return next
          },
        }
      }
      return data[name].get(key)
    },
    set(key: string, value: unknown, store?: string) {
      calls.push({scope: name, op: 'set', key, store})
      data[name].set(key, value)
    },
  })
  const flow = scope('flow')
  const global = scope('global')
  const context = Object.assign(scope('context'), {flow, global})
  return {data, calls, flow, global, context}
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>

/** Run function-node code `times` times with msg.payload = amount; the final context and the last result. */
async function run(code: string, times: number, payload: unknown = 3, seed?: (c: ReturnType<typeof fakeContext>) => void) {
  const c = fakeContext()
  seed?.(c)
  const fn = new AsyncFunction('msg', 'flow', 'global', 'context', 'node', code)
  let last: unknown
  for (let i = 0; i < times; i++) last = await fn({payload}, c.flow, c.global, c.context, {warn() {}})
  return {c, last}
}

function rewrite(code: string): string {
  const plan = planAtomicRewrite(code)
  if (!plan.ok) throw new Error(`not rewritten: ${plan.reason}`)
  return plan.rewrite.code
}

describe('planAtomicRewrite: the patterns it rewrites', () => {
  const cases: Array<{name: string; code: string; expected: string; scope: 'flow' | 'global' | 'context'; key: string; seed?: number}> = [
    {name: 'flow.set(k, flow.get(k) + 1)', code: "flow.set('count', flow.get('count') + 1);\nreturn msg;", expected: "await flow.get('$atomic').increment('count', 1);\nreturn msg;", scope: 'flow', key: 'count', seed: 0},
    {name: '(get || 0) + msg.payload, double quotes', code: 'flow.set("n", (flow.get("n") || 0) + msg.payload)\nreturn msg', expected: "await flow.get('$atomic').increment(\"n\", msg.payload)\nreturn msg", scope: 'flow', key: 'n'},
    {name: 'x + get, global', code: "global.set('hits', 2 + global.get('hits'));\nreturn msg;", expected: "await global.get('$atomic').increment('hits', 2);\nreturn msg;", scope: 'global', key: 'hits', seed: 10},
    {name: 'get - x, context (node scope)', code: "context.set('left', context.get('left') - 1);\nreturn null;", expected: "await context.get('$atomic').increment('left', -1);\nreturn null;", scope: 'context', key: 'left', seed: 100},
    {
      name: 'let n = get || 0; n += x; set(k, n), n used after',
      code: "let n = flow.get('n') || 0;\nn += msg.payload;\nflow.set('n', n);\nmsg.payload = n;\nreturn msg;",
      expected: "let n = await flow.get('$atomic').increment('n', msg.payload);\nmsg.payload = n;\nreturn msg;",
      scope: 'flow',
      key: 'n',
    },
    {
      name: 'var count = get ?? 0; count++; set, a named store, statements in between',
      code: "var count = global.get('c', 'shared') ?? 0;\nnode.warn('counting');\ncount++;\nmsg.topic = 'x';\nglobal.set('c', count, 'shared');\nmsg.payload = count;\nreturn msg;",
      expected: "var count = await global.get('$atomic', 'shared').increment('c', 1);\nnode.warn('counting');\nmsg.topic = 'x';\nmsg.payload = count;\nreturn msg;",
      scope: 'global',
      key: 'c',
    },
    {name: 'n = n + x; CRLF line breaks', code: "let n = flow.get('n');\r\nn = n + 5;\r\nflow.set('n', n);\r\nreturn msg;", expected: "let n = await flow.get('$atomic').increment('n', 5);\r\nreturn msg;", scope: 'flow', key: 'n', seed: 1},
    {name: 'v -= x, context.flow', code: "let v = context.flow.get('v') || 0;\nv -= 2;\ncontext.flow.set('v', v);\nreturn msg;", expected: "let v = await context.flow.get('$atomic').increment('v', -2);\nreturn msg;", scope: 'flow', key: 'v'},
    {name: 'inside an if block', code: "if (msg.payload) {\n    flow.set('n', flow.get('n') + 1);\n}\nreturn msg;", expected: "if (msg.payload) {\n    await flow.get('$atomic').increment('n', 1);\n}\nreturn msg;", scope: 'flow', key: 'n', seed: 0},
  ]
  for (const c of cases) {
    it(`${c.name}: rewritten, and it counts as the original did`, async () => {
      const code = rewrite(c.code)
      expect(code).toBe(c.expected)
      const seed = (x: ReturnType<typeof fakeContext>) => {
        if (c.seed !== undefined) x.data[c.scope].set(c.key, c.seed)
      }
      const before = await run(c.code, 5, 3, seed)
      const after = await run(code, 5, 3, seed)
      expect(after.c.data[c.scope].get(c.key)).toBe(before.c.data[c.scope].get(c.key))
      expect(after.last).toEqual(before.last)
      // The key is only ever changed by the atomic increment: no plain read then write left to race.
      const plain = after.c.calls.filter(k => k.key === c.key && (k.op === 'get' || k.op === 'set'))
      expect(plain).toEqual([])
      expect(after.c.calls.filter(k => k.op === 'increment' && k.key === c.key)).toHaveLength(5)
    })
  }

  it('the rewritten counter loses no update when runs overlap; the original does', async () => {
    // Runs that interleave between the read and the write, as replicas (or an await) do.
    const original = "let n = flow.get('n') || 0;\nawait null;\nn += 1;\nflow.set('n', n);\nreturn msg;"
    const plan = planAtomicRewrite(original)
    // An await between the read and the write: the rewrite would move the increment across it, so it is refused.
    expect(plan.ok).toBe(false)
    const simple = "let n = flow.get('n') || 0;\nn += 1;\nflow.set('n', n);\nreturn msg;"
    const c = fakeContext()
    const fn = new AsyncFunction('msg', 'flow', 'global', 'context', 'node', rewrite(simple))
    await Promise.all(Array.from({length: 50}, () => fn({}, c.flow, c.global, c.context, {})))
    expect(c.data.flow.get('n')).toBe(50)
    const racy = fakeContext()
    const fnRacy = new AsyncFunction('msg', 'flow', 'global', 'context', 'node', original)
    await Promise.all(Array.from({length: 50}, () => fnRacy({}, racy.flow, racy.global, racy.context, {})))
    expect(racy.data.flow.get('n')).toBeLessThan(50)
  })

  it('a non-number amount is a node error after the rewrite, not a string concatenation', async () => {
    const code = rewrite("flow.set('n', (flow.get('n') || 0) + msg.payload); return msg;")
    await expect(run(code, 1, 'x')).rejects.toThrow(/not a finite number/)
  })

  it('the rewritten code parses as a function body (await at the top level)', () => {
    const code = rewrite("let n = flow.get('n') || 0; n++; flow.set('n', n); return msg;")
    expect(() => new AsyncFunction('msg', 'flow', 'global', 'context', 'node', code)).not.toThrow()
  })
})

describe('planAtomicRewrite: what it leaves, and why', () => {
  const cases: Array<{name: string; code: string; reason: RegExp}> = [
    {name: 'a computed key', code: "const k = 'n';\nflow.set(k, flow.get(k) + 1);", reason: /computed/},
    {name: 'the old value used between the read and the write', code: "let n = flow.get('n') || 0;\nmsg.before = n;\nn += 1;\nflow.set('n', n);\nreturn msg;", reason: /n or the key is used.*between the read and the addition/},
    {name: 'an early return between the read and the write', code: "let n = flow.get('n') || 0;\nif (!msg.payload) return null;\nn += 1;\nflow.set('n', n);", reason: /may leave/},
    {name: 'the amount set between the read and the addition', code: "let n = flow.get('n') || 0;\nlet step = msg.payload;\nn += step;\nflow.set('n', n);", reason: /amount added uses names set between/},
    {name: 'inside a callback that is not async', code: "setTimeout(function () {\n    flow.set('n', flow.get('n') + 1);\n}, 10);", reason: /not async/},
    {name: 'not an addition (a list push)', code: "const l = flow.get('l') || [];\nl.push(msg.payload);\nflow.set('l', l);", reason: /not one of the patterns/},
    {name: 'a multiplication', code: "flow.set('n', flow.get('n') * 2);", reason: /not one of the patterns/},
    {name: 'another read-modify-write of the same key left', code: "flow.set('n', flow.get('n') + 1);\nconst m = flow.get('n');\nflow.set('n', m * 2);", reason: /also read and written elsewhere/},
    {name: 'different keys read and written', code: "flow.set('a', flow.get('b') + 1);", reason: /not one of the patterns/},
    {name: 'different stores', code: "flow.set('a', flow.get('a', 'file') + 1, 'memory');", reason: /not one of the patterns/},
    {name: 'v = v + v', code: "let v = flow.get('v');\nv = v + v;\nflow.set('v', v);", reason: /v or the key is used/},
    {name: 'the amount reads context', code: "flow.set('a', flow.get('a') + flow.get('b'));", reason: /not one of the patterns/},
    {name: 'code that does not parse', code: 'flow.set(', reason: /does not parse/},
    {name: 'a pattern inside a string or a comment', code: "// flow.set('n', flow.get('n') + 1)\nconst s = \"flow.set('n', flow.get('n') + 1)\";\nflow.set('n', 0); const x = flow.get('n');", reason: /not one of the patterns/},
  ]
  for (const c of cases) {
    it(`${c.name}: not rewritten`, () => {
      const plan = planAtomicRewrite(c.code)
      expect(plan.ok).toBe(false)
      if (!plan.ok) expect(plan.reason).toMatch(c.reason)
    })
  }
})
