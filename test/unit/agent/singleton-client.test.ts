// The ff-ha singleton node's client (nodes/lib/singleton-client.js) against a stand-in agent and a fake
// clock: it passes only until sentAt + validForMs, stops at once when told standby, keeps the last grant (which
// runs out) when the agent does not answer, and never passes without an agent or with a bad name. The real
// node with real agents is in test/integration/singleton/singleton.test.ts.
import {createRequire} from 'node:module'
import {describe, expect, it} from 'vitest'

const require = createRequire(import.meta.url)
const {SingletonClient, nameProblem} = require('../../../nodes/lib/singleton-client.js')

interface Answer {
  state: 'holder' | 'standby' | 'error'
  token: number | null
  holder: string | null
  validForMs: number
  pollMs: number
  error?: string
}

function harness() {
  const t = {now: 0}
  const pending: {method: string; url: string; resolve: (a: Answer | null) => void; reject: (e: Error) => void}[] = []
  const timers: {due: number; fn: () => void}[] = []
  const views: {state: string}[] = []
  const client = new SingletonClient({
    name: 'ticker',
    url: 'http://127.0.0.1:9880/singleton/',
    token: 'tok',
    now: () => t.now,
    request: (method: string, url: string) => new Promise((resolve, reject) => pending.push({method, url, resolve, reject})),
    after: (ms: number, fn: () => void) => {
      const timer = {due: t.now + ms, fn}
      timers.push(timer)
      return {cancel: () => timers.splice(timers.indexOf(timer), 1)}
    },
    onView: (v: {state: string}) => views.push(v),
  })
  const settle = () => new Promise(resolve => setImmediate(resolve))
  /** Move time; run due timers (polls). */
  const advance = async (ms: number) => {
    t.now += ms
    for (const timer of timers.filter(x => x.due <= t.now)) {
      timers.splice(timers.indexOf(timer), 1)
      timer.fn()
    }
    await settle()
  }
  const answer = async (a: Answer) => {
    pending.shift()!.resolve(a)
    await settle()
  }
  return {t, pending, client, advance, answer, views, settle}
}

const holder = (validForMs: number, token = 3): Answer => ({state: 'holder', token, holder: 'a', validForMs, pollMs: 200})

describe('SingletonClient (the node\'s side)', () => {
  it('passes from a holder answer until sentAt + validForMs, counting from when the request was sent', async () => {
    const h = harness()
    expect(h.client.start()).toBeNull()
    expect(h.pending[0]).toMatchObject({method: 'POST', url: 'http://127.0.0.1:9880/singleton/ticker'})
    expect(h.client.pass()).toBeNull()
    // The answer takes 300 ms to arrive: the grant still counts from the send (t = 0).
    h.t.now = 300
    await h.answer(holder(1500))
    expect(h.client.pass()).toEqual({token: 3})
    h.t.now = 1499
    expect(h.client.pass()).toEqual({token: 3})
    h.t.now = 1500
    expect(h.client.pass()).toBeNull()
    expect(h.views.at(-1)).toMatchObject({state: 'holder', token: 3})
  })

  it('stops passing at once when the agent says standby, whatever was granted before', async () => {
    const h = harness()
    h.client.start()
    await h.answer(holder(1500))
    await h.advance(200)
    expect(h.pending).toHaveLength(1)
    await h.answer({state: 'standby', token: null, holder: 'b', validForMs: 0, pollMs: 200})
    expect(h.client.pass()).toBeNull()
    expect(h.views.at(-1)).toMatchObject({state: 'standby', holder: 'b'})
  })

  it('an agent that does not answer: the last grant runs out, the status says error', async () => {
    const h = harness()
    h.client.start()
    await h.answer(holder(1500))
    await h.advance(200)
    h.pending.shift()!.reject(new Error('connect ECONNREFUSED 127.0.0.1:9880'))
    await h.settle()
    expect(h.client.pass()).toEqual({token: 3})
    expect(h.views.at(-1)).toMatchObject({state: 'error'})
    h.t.now = 1500
    expect(h.client.pass()).toBeNull()
  })

  it('stop: no more passing; a removed node tells the agent (DELETE), a restarted one does not', async () => {
    const h = harness()
    h.client.start()
    await h.answer(holder(1500))
    const stopping = h.client.stop(true)
    expect(h.client.pass()).toBeNull()
    expect(h.pending[0]).toMatchObject({method: 'DELETE'})
    h.pending.shift()!.resolve(null)
    await stopping
    const h2 = harness()
    h2.client.start()
    await h2.answer(holder(1500))
    await h2.client.stop(false)
    expect(h2.pending).toHaveLength(0)
  })

  it('never passes without an agent, or with a name that cannot be a lease', () => {
    const noAgent = new SingletonClient({name: 'ticker', onView: () => {}})
    expect(noAgent.start()).toMatch(/not run by an ff-ha agent/)
    expect(noAgent.pass()).toBeNull()
    expect(nameProblem('')).toMatch(/no singleton name/)
    expect(nameProblem('Nightly Report')).toMatch(/lower-case letters/)
    expect(nameProblem('nightly-report')).toBeNull()
    const bad = new SingletonClient({name: 'a/b', url: 'http://x/', token: 't', request: () => Promise.reject(new Error('must not be asked')), onView: () => {}})
    expect(bad.start()).toMatch(/invalid singleton name/)
    expect(bad.pass()).toBeNull()
  })
})
