import {describe, expect, it} from 'vitest'
import {DEFAULT_RESTART_POLICY} from '../../../src/agent/restart-policy.js'
import {
  healthOf,
  initialState,
  isActive,
  step,
  wantsLease,
  type Command,
  type LeaseFacts,
  type SupervisorConfig,
  type SupervisorEvent,
  type SupervisorState,
} from '../../../src/agent/supervisor/machine.js'
import {FakeClock} from './fakes.js'

// The supervisor's machine driven by a fake clock, no process and no network: the shell's part is played
// by Driver (timers on the fake clock; a small stand-in for the lease elector: leading until renewDeadline
// after the last renew, resigned by the machine's resign-lease). Each row is one supervision story; the
// numbers in the names are the invariants of src/agent/supervisor/machine.ts.

const CONFIG: SupervisorConfig = {
  replica: 'a',
  leased: true,
  timings: {leaseDurationMs: 2000, renewDeadlineMs: 1500, healthIntervalMs: 500, healthTimeoutMs: 300, healthFailureThreshold: 3},
  stopBoundMs: 250,
  bootTimeoutMs: 1000,
  drainMs: 0,
  restartPolicy: DEFAULT_RESTART_POLICY,
  witness: null,
  userDir: '/ud',
}

class Driver {
  readonly clock = new FakeClock()
  state: SupervisorState
  readonly commands: Command[] = []
  /** Node-RED's CPU ticks, as /proc would say. */
  cpu = 0
  /** Node-RED answers every health check at once with the flows state the machine knows; false: the row answers (or not). */
  answersHealth = true
  /** The stand-in elector. */
  renewedAt: number | null = null
  lastRenewSentAt: number | null = null
  token: number | null = null
  holder: string | null = null

  constructor(readonly config: SupervisorConfig = CONFIG) {
    this.state = initialState(config, this.clock.now(), this.clock.wall())
  }

  get leaseFacts(): LeaseFacts | null {
    if (!this.config.leased) return null
    const now = this.clock.now()
    const deadline = this.renewedAt === null ? null : this.renewedAt + this.config.timings.renewDeadlineMs
    const leading = deadline !== null && now < deadline
    return {leading, token: leading ? this.token : null, holder: this.holder, recordToken: this.token, deadline, lastRenewSentAt: this.lastRenewSentAt}
  }

  send(event: SupervisorEvent): Command[] {
    const {state, commands} = step(this.state, event, {now: this.clock.now(), wall: this.clock.wall(), lease: this.leaseFacts, cpuTicks: this.cpu})
    this.state = state
    const answers: SupervisorEvent[] = []
    for (const c of commands) {
      this.commands.push(c)
      if (c.kind === 'timer') this.clock.after(c.ms, () => this.send({kind: 'timer', name: c.name, ref: c.ref}))
      if (c.kind === 'resign-lease') this.renewedAt = null
      if (c.kind === 'check-health' && this.answersHealth) answers.push({kind: 'health-answered', id: c.id, state: this.state.flowsState ?? 'stop'})
    }
    for (const a of answers) this.send(a)
    return commands
  }

  /** Move the clock with the watchdog ticking every 20 ms, as the shell does. */
  run(ms: number): void {
    for (let left = ms; left > 0; left -= 20) {
      this.clock.advance(Math.min(20, left))
      this.send({kind: 'tick'})
    }
  }

  /** The lease is ours: a write sent now. */
  acquire(token: number): Command[] {
    this.renewedAt = this.lastRenewSentAt = this.clock.now()
    this.token = token
    this.holder = 'a'
    return this.send({kind: 'lease-acquired', token, previousHolder: null})
  }

  renew(): void {
    this.renewedAt = this.lastRenewSentAt = this.clock.now()
  }

  last<K extends Command['kind']>(kind: K): Extract<Command, {kind: K}> {
    const found = this.commands.filter(c => c.kind === kind).at(-1)
    if (!found) throw new Error(`no ${kind} command; commands: ${JSON.stringify(this.commands.map(c => c.kind))}`)
    return found as Extract<Command, {kind: K}>
  }

  has(kind: Command['kind']): boolean {
    return this.commands.some(c => c.kind === kind)
  }

  logs(event: string): Record<string, unknown>[] {
    return this.commands.flatMap(c => (c.kind === 'log' && c.event === event ? [c.fields] : []))
  }

  roles(): string[] {
    return this.logs('role').map(f => (f.reason ? `${String(f.role)}(${String(f.reason)})` : String(f.role)))
  }

  /** Commands of these kinds, in order (to check what happens before what). */
  order(...kinds: Command['kind'][]): string[] {
    return this.commands.filter(c => kinds.includes(c.kind)).map(c => c.kind)
  }

  /** Boot: spawn, load, read the state (stopped): a spare. */
  boot(flowsState: 'start' | 'stop' = 'stop'): void {
    this.send({kind: 'boot'})
    const gen = this.last('spawn').gen
    this.send({kind: 'spawned', gen, pid: 100 + gen, command: 'node-red'})
    this.send({kind: 'loaded', gen, rev: 'r1'})
    this.send({kind: 'flows-state', gen, purpose: 'ready', state: flowsState})
  }

  /** Spare -> active for tenure `token`. */
  activate(token = 1): void {
    this.acquire(token)
    this.send({kind: 'start-answered', id: this.last('start-flows').id, state: 'start'})
  }

  gen(): number {
    return this.state.gen
  }
}

interface Row {
  name: string
  run(d: Driver): void
  config?: Partial<SupervisorConfig>
}

const rows: Row[] = [
  {
    name: 'boot: spawned, loaded, booted stopped: a spare that wants the lease (7)',
    run(d) {
      d.boot()
      expect(d.state.role).toBe('spare')
      expect(d.roles()).toEqual(['spare'])
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(true)
      expect(healthOf(d.state, d.clock.now())).toEqual({ok: true})
    },
  },
  {
    name: 'the time before boot (opening the lease store, listening) is not a pause',
    run(d) {
      d.clock.advance(2000)
      d.boot()
      d.run(100)
      expect(d.logs('pause')).toEqual([])
    },
  },
  {
    name: 'acquired: flows start for the tenure, then active; /active needs the lease too (1)',
    run(d) {
      d.boot()
      d.acquire(7)
      expect(d.last('start-flows')).toMatchObject({gen: 1})
      expect(d.state.role).toBe('spare') // not active before Node-RED confirms
      d.send({kind: 'start-answered', id: d.last('start-flows').id, state: 'start'})
      expect(d.state.role).toBe('active')
      expect(d.logs('role').at(-1)).toMatchObject({role: 'active', from: 'spare', attempts: 1, fencingToken: 7})
      expect(isActive(d.state, d.leaseFacts)).toBe(true)
      expect(isActive(d.state, {...d.leaseFacts!, leading: false})).toBe(false)
    },
  },
  {
    name: "the early-boot 500 of a start is retried every 25 ms; the first retry is logged, then every 20th",
    run(d) {
      d.boot()
      d.acquire(1)
      for (let i = 0; i < 3; i++) {
        d.send({kind: 'start-failed', id: d.last('start-flows').id, failure: {kind: 'server-error', status: 500, message: '500'}})
        d.clock.advance(25)
      }
      d.send({kind: 'start-answered', id: d.last('start-flows').id, state: 'start'})
      expect(d.commands.filter(c => c.kind === 'start-flows')).toHaveLength(4)
      expect(d.logs('flows')).toEqual([{action: 'start-retry', attempts: 1, error: 'server-error 500'}])
      expect(d.logs('role').at(-1)).toMatchObject({role: 'active', attempts: 4})
    },
  },
  {
    name: 'lease lost while the start is in flight: the start answer is followed by a kill in the same step (1, 3)',
    run(d) {
      d.boot()
      d.acquire(1)
      const start = d.last('start-flows')
      d.renewedAt = null // the elector resigned (a failed renew) while the POST was in flight
      d.holder = 'b'
      d.send({kind: 'start-answered', id: start.id, state: 'start'})
      expect(d.roles()).toEqual(['spare', 'fenced(lost-while-starting)'])
      expect(d.state.role).not.toBe('active')
      expect(d.last('kill')).toEqual({kind: 'kill', gen: 1})
      expect(d.logs('flows').at(-1)?.reason).toMatch(/another replica may already hold the lease \(lost-while-starting/)
      d.send({kind: 'exited', gen: 1, code: null, signal: 'SIGKILL', logTail: ''})
      expect(d.state.role).toBe('starting')
      expect(d.state.fence).toBeNull()
    },
  },
  {
    name: 'renew deadline passed while awake: resign at once, ask for the stop, kill only after stopBoundMs (2, 3)',
    run(d) {
      d.boot()
      d.activate()
      d.run(1480)
      expect(d.state.role).toBe('active')
      d.run(20) // the tick at 1500 ms after the renew: the deadline
      expect(d.roles().at(-1)).toBe('fenced(renew-deadline)')
      expect(d.order('resign-lease', 'stop-flows')[0]).toBe('resign-lease')
      const stop = d.last('stop-flows')
      expect(d.has('kill')).toBe(false) // 1500 + 250 < 2000: nobody can take over before the stop is confirmed
      d.run(240)
      expect(d.has('kill')).toBe(false)
      d.run(20)
      expect(d.logs('flows').map(f => f.action)).toEqual(['stop-failed', 'kill'])
      expect(d.logs('flows')[0]).toMatchObject({error: 'timeout', reason: 'renew-deadline'})
      expect(d.last('kill').gen).toBe(stop.gen)
      expect(d.has('release-lease')).toBe(false) // a stop not confirmed is no reason to hand over early
    },
  },
  {
    name: 'a stop confirmed in time: flows stopped, THEN the lease released, then spare (2, 8)',
    run(d) {
      d.boot()
      d.activate()
      d.run(1520)
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      expect(d.order('stop-flows', 'release-lease')).toEqual(['stop-flows', 'release-lease'])
      expect(d.state.role).toBe('fenced')
      d.send({kind: 'lease-released', reason: 'renew-deadline', released: true, forFence: true})
      expect(d.state.role).toBe('spare')
      expect(d.state.flowsState).toBe('stop')
      expect(d.logs('lease').at(-1)).toEqual({action: 'released', reason: 'renew-deadline'})
    },
  },
  {
    name: 'a pause longer than the lease: on waking, Node-RED is killed in the first step, no API stop (3)',
    run(d) {
      d.boot()
      d.activate()
      d.run(200)
      d.clock.jump(3000) // SIGSTOP: no tick, no timer, no renew
      d.send({kind: 'tick'}) // the watchdog runs first on waking
      expect(d.logs('pause')[0]).toMatchObject({gapMs: 3000, leading: true})
      expect(d.roles().at(-1)).toBe('fenced(pause)')
      expect(d.has('stop-flows')).toBe(false)
      expect(d.last('kill').gen).toBe(1)
      const fenced = d.commands.findIndex(c => c.kind === 'log' && c.event === 'role' && c.fields.role === 'fenced')
      expect(d.commands.findIndex(c => c.kind === 'kill')).toBeGreaterThan(fenced)
      expect(d.commands.slice(fenced).every(c => c.kind !== 'timer' || c.name !== 'stop-bound')).toBe(true)
    },
  },
  {
    name: 'lease taken by another replica: kill at once, and the exit releases nothing it does not hold (3, 4)',
    run(d) {
      d.boot()
      d.activate()
      d.holder = 'intruder'
      d.renewedAt = null
      d.send({kind: 'lease-lost', reason: 'lost'})
      expect(d.roles().at(-1)).toBe('fenced(lease-lost)')
      expect(d.last('kill').gen).toBe(1)
      d.send({kind: 'exited', gen: 1, code: null, signal: 'SIGKILL', logTail: ''})
      expect(d.has('release-lease')).toBe(false)
      expect(d.state.role).toBe('starting')
      expect(d.last('timer')).toMatchObject({name: 'respawn', ms: 500})
      d.clock.advance(500)
      expect(d.last('spawn').gen).toBe(2)
    },
  },
  {
    name: 'fence while a start is in flight, lease not at risk: stop only after the start answered or stopBoundMs (2, 6)',
    run(d) {
      d.boot()
      d.acquire(1)
      const start = d.last('start-flows')
      d.send({kind: 'lease-lost', reason: 'renew-deadline'})
      expect(d.state.fence?.phase).toBe('await-start')
      expect(d.has('stop-flows')).toBe(false)
      d.send({kind: 'start-answered', id: start.id, state: 'start'})
      expect(d.state.flowsState).toBe('start')
      expect(d.state.role).toBe('fenced') // never active in a fenced tenure
      expect(d.last('stop-flows').gen).toBe(1)
      // A second start answer, or a stale one, changes nothing.
      d.send({kind: 'start-answered', id: start.id, state: 'start'})
      expect(d.commands.filter(c => c.kind === 'stop-flows')).toHaveLength(1)
    },
  },
  {
    name: 'a health answer sent before a confirmed start does not overwrite it (6: the flows epoch)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.clock.advance(500) // the health timer: a check is sent
      const check = d.last('check-health')
      d.acquire(1)
      d.send({kind: 'start-answered', id: d.last('start-flows').id, state: 'start'})
      d.send({kind: 'health-answered', id: check.id, state: 'stop'})
      expect(d.state.flowsState).toBe('start')
      expect(d.state.role).toBe('active')
    },
  },
  {
    name: 'hang: healthFailureThreshold checks in a row time out, then a kill; the exit releases the lease (4, 5)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.activate()
      // Checks sent at 500, 1000, 1500 ms, each unanswered for healthTimeoutMs (300).
      for (let i = 0; i < 6; i++) {
        d.renew()
        d.run(300)
      }
      expect(d.logs('health').map(f => f.consecutive)).toEqual([1, 2, 3])
      expect(d.logs('health').at(-1)).toMatchObject({error: 'timeout', action: 'kill', reason: 'Node-RED failed 3 health checks in a row (hang)'})
      expect(healthOf(d.state, d.clock.now())).toEqual({ok: false, reason: 'Node-RED failed 3 health check(s) in a row'})
      expect(d.last('kill').gen).toBe(1)
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(false)
      d.send({kind: 'exited', gen: 1, code: null, signal: 'SIGKILL', logTail: ''})
      expect(d.order('resign-lease', 'release-lease').slice(-2)).toEqual(['resign-lease', 'release-lease'])
      expect(d.last('release-lease')).toEqual({kind: 'release-lease', reason: 'node-red-exit', forFence: false})
    },
  },
  {
    name: 'a deploy under way is busy, not hung, while its grace lasts; then a hang after all (5)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.send({kind: 'deploy-signal', gen: 1, signal: {deploy: 'hello', events: true}})
      d.send({kind: 'deploy-signal', gen: 1, signal: {deploy: 'start', id: 1, bytes: 0, write: true}})
      expect(d.logs('deploy')).toEqual([{action: 'start', bytes: 0}])
      for (let i = 0; i < 10; i++) d.clock.advance(800)
      expect(d.state.healthFailures).toBeGreaterThan(CONFIG.timings.healthFailureThreshold)
      expect(d.has('kill')).toBe(false)
      expect(healthOf(d.state, d.clock.now()).reason).toMatch(/^Node-RED is busy with a deploy/)
      // Only the first failure and every 20th are logged while busy.
      expect(d.logs('health')).toHaveLength(1)
      d.clock.advance(60_000) // no sign of life (no CPU, no signal) for longer than the grace
      expect(d.logs('health').at(-1)).toMatchObject({action: 'kill'})
      expect(d.last('kill').gen).toBe(1)
    },
  },
  {
    name: 'CPU time that grows during a deploy keeps it alive past the grace (5)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.send({kind: 'deploy-signal', gen: 1, signal: {deploy: 'start', id: 1, bytes: 0, write: true}})
      for (let t = 0; t < 120_000; t += 800) {
        d.cpu += 10
        d.clock.advance(800)
      }
      expect(d.has('kill')).toBe(false)
    },
  },
  {
    name: 'boot timeout: loading on the CPU is extended, loading idle is killed',
    run(d) {
      d.send({kind: 'boot'})
      d.send({kind: 'spawned', gen: 1, pid: 101, command: 'node-red'})
      for (let t = 0; t < 3000; t += 25) {
        d.cpu += 1
        d.send({kind: 'not-loaded', gen: 1})
        d.clock.advance(25)
      }
      expect(d.has('kill')).toBe(false)
      // now idle: a deadline 5 s on after the last look that saw CPU passes without CPU
      for (let t = 0; t < 12_000; t += 25) {
        if (d.has('kill')) break
        d.send({kind: 'not-loaded', gen: 1})
        d.clock.advance(25)
      }
      expect(d.logs('health').at(-1)?.reason).toMatch(/^Node-RED did not load its flows within \d+ ms$/)
      expect(d.last('kill').gen).toBe(1)
    },
  },
  {
    name: "boot-time 'start' misreport: looked at again for up to 1 s; a stop within it is no fence",
    run(d) {
      d.boot('start')
      expect(d.state.role).toBe('starting')
      d.clock.advance(50)
      d.send({kind: 'flows-state', gen: 1, purpose: 'misreport', state: 'start'})
      d.clock.advance(50)
      d.send({kind: 'flows-state', gen: 1, purpose: 'misreport', state: 'stop'})
      expect(d.state.role).toBe('spare')
      expect(d.logs('unexpected-start')).toEqual([])
    },
  },
  {
    name: 'booted started for over 1 s without the lease: unexpected-start, an API stop (not a kill), then spare (2)',
    run(d) {
      d.answersHealth = false // the health checks would see it too; this row is about the boot look
      d.boot('start')
      for (let i = 0; i < 25 && !d.state.fence; i++) {
        d.clock.advance(50)
        d.send({kind: 'flows-state', gen: 1, purpose: 'misreport', state: 'start'})
      }
      expect(d.logs('unexpected-start')).toEqual([{reason: 'Node-RED booted with flows started'}])
      expect(d.roles().at(-1)).toBe('fenced(not-leader)')
      expect(d.has('kill')).toBe(false)
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      d.send({kind: 'lease-released', reason: 'not-leader', released: false, forFence: true})
      expect(d.state.role).toBe('spare')
    },
  },
  {
    name: 'restart backoff: 500, 1000, 2000, 4000, 8000 ms; a crash loop at the 5th, /healthz says why, no lease wanted (4)',
    run(d) {
      d.send({kind: 'boot'})
      const delays: number[] = []
      for (let i = 0; i < 6; i++) {
        const gen = d.last('spawn').gen
        d.send({kind: 'spawned', gen, pid: 100 + gen, command: 'node-red'})
        d.clock.advance(50)
        d.send({kind: 'exited', gen, code: 3, signal: null, logTail: 'Error: Cannot find module x'})
        const respawn = d.last('timer')
        delays.push(respawn.ms)
        d.clock.advance(respawn.ms)
      }
      expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000])
      expect(d.logs('crash-loop')).toHaveLength(1)
      expect(d.logs('crash-loop')[0]).toMatchObject({consecutive: 5, log: '/ud/node-red.log'})
      expect(String(d.logs('crash-loop')[0].reason)).toMatch(/^Node-RED exited with code 3 5 times in a row, the last after 50 ms; last log: Error: Cannot find module x$/)
      expect(healthOf(d.state, d.clock.now()).reason).toMatch(/^crash loop: /)
      // Loaded for once, still crash looping until a stable run: no lease.
      const gen = d.last('spawn').gen
      d.send({kind: 'spawned', gen, pid: 1, command: 'node-red'})
      d.send({kind: 'loaded', gen, rev: 'r'})
      d.send({kind: 'flows-state', gen, purpose: 'ready', state: 'stop'})
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(false)
      d.clock.advance(5000) // stable
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(true)
      expect(d.state.restarts).toBe(6)
    },
  },
  {
    name: 'graceful stop of the active (hot-spare): stop flows, then release, then SIGTERM, then finish (8)',
    run(d) {
      d.boot()
      d.activate()
      d.send({kind: 'stop', reason: 'SIGTERM'})
      expect(d.state.role).toBe('stopping')
      expect(healthOf(d.state, d.clock.now())).toEqual({ok: false, reason: 'stopping'})
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      d.send({kind: 'lease-released', reason: 'shutdown', released: true, forFence: false})
      d.send({kind: 'exited', gen: 1, code: 0, signal: null, logTail: ''})
      d.send({kind: 'terminated', gen: 1})
      expect(d.order('resign-lease', 'stop-flows', 'release-lease', 'terminate', 'finish')).toEqual(['resign-lease', 'stop-flows', 'release-lease', 'terminate', 'finish'])
      expect(d.commands.filter(c => c.kind === 'timer' && c.name === 'respawn')).toEqual([])
      // Nothing happens after the finish.
      expect(d.send({kind: 'tick'})).toEqual([])
    },
  },
  {
    name: 'graceful stop while a start is in flight: the stop waits for it up to stopBoundMs, then stop, release (8)',
    run(d) {
      d.boot()
      d.acquire(1)
      d.send({kind: 'stop', reason: 'SIGTERM'})
      expect(d.has('stop-flows')).toBe(false)
      d.clock.advance(249)
      expect(d.has('stop-flows')).toBe(false)
      d.clock.advance(1) // the start never answered: stop anyway
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      expect(d.last('release-lease')).toEqual({kind: 'release-lease', reason: 'shutdown', forFence: false})
      expect(d.state.role).toBe('stopping') // never active on the way out
    },
  },
  {
    name: 'load-balanced: no lease, flows start when loaded; a stop drains (healthz 503) for drainMs before SIGTERM (8)',
    config: {leased: false, drainMs: 300},
    run(d) {
      d.boot()
      d.send({kind: 'start-answered', id: d.last('start-flows').id, state: 'start'})
      expect(d.state.role).toBe('active')
      expect(isActive(d.state, null)).toBe(true)
      d.send({kind: 'stop', reason: 'SIGTERM'})
      expect(d.logs('draining')).toEqual([{ms: 300}])
      expect(healthOf(d.state, d.clock.now()).ok).toBe(false)
      d.clock.advance(299)
      expect(d.has('terminate')).toBe(false)
      expect(d.has('stop-flows')).toBe(false)
      d.clock.advance(1)
      expect(d.last('terminate').gen).toBe(1)
      expect(d.has('resign-lease') || d.has('release-lease')).toBe(false)
    },
  },
  {
    name: 'witness: a leader that has not reached it for renewDeadline fences; a candidate that cannot reach it does not want the lease (7)',
    config: {witness: '127.0.0.1:1'},
    run(d) {
      d.boot()
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(false) // never reached yet
      d.send({kind: 'witness-probed', ok: true, startedAt: d.clock.now()})
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(true)
      d.activate()
      for (let t = 0; t < 1400; t += 200) {
        d.renew()
        d.run(200)
        d.send({kind: 'witness-probed', ok: false, startedAt: d.clock.now()})
      }
      expect(d.state.role).toBe('active')
      d.renew()
      d.run(200)
      expect(d.logs('witness')).toEqual([{ok: false, witness: '127.0.0.1:1', reason: 'not reached for 1500 ms'}])
      expect(d.roles().at(-1)).toBe('fenced(witness-unreachable)')
      expect(d.has('kill')).toBe(false) // renewed 0-20 ms ago: nobody can take over before the API stop is confirmed
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      expect(d.last('release-lease')).toMatchObject({reason: 'witness-unreachable', forFence: true})
    },
  },
  {
    name: 'flows found running without the lease on two checks 500 ms apart: fenced as not-leader (2)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.clock.advance(500)
      d.send({kind: 'health-answered', id: d.last('check-health').id, state: 'start'})
      expect(d.state.fence).toBeNull() // once may be the boot-time misreport
      d.clock.advance(500)
      d.send({kind: 'health-answered', id: d.last('check-health').id, state: 'start'})
      expect(d.logs('unexpected-start')).toEqual([{reason: 'flows are running on a replica that does not hold the lease'}])
      expect(d.roles().at(-1)).toBe('fenced(not-leader)')
      expect(d.last('stop-flows').gen).toBe(1)
    },
  },
  {
    name: 'a start that Node-RED does not confirm within its bound is a hang: kill',
    run(d) {
      d.boot()
      d.acquire(1)
      d.send({kind: 'start-failed', id: d.last('start-flows').id, failure: {kind: 'timeout', status: null, message: 'timeout'}})
      expect(d.logs('health').at(-1)?.reason).toBe('Node-RED did not confirm the start within 60000 ms (hang)')
      expect(d.last('kill').gen).toBe(1)
    },
  },
  {
    name: 'Node-RED dies while a health check is in flight: the checks go on for the next one (5, 6)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.clock.advance(500)
      const check = d.last('check-health')
      d.send({kind: 'exited', gen: 1, code: 1, signal: null, logTail: ''})
      d.send({kind: 'health-failed', id: check.id, failure: {kind: 'connection', status: null, message: 'refused'}})
      expect(d.state.healthFailures).toBe(0) // about the dead one: no failure for the next
      d.clock.advance(500) // respawn
      d.send({kind: 'spawned', gen: 2, pid: 102, command: 'node-red'})
      d.send({kind: 'loaded', gen: 2, rev: 'r2'})
      d.send({kind: 'flows-state', gen: 2, purpose: 'ready', state: 'stop'})
      d.clock.advance(1000)
      expect(d.last('check-health').gen).toBe(2)
    },
  },
  {
    name: 'handover: out of the active role, flows stopped while the lease is still renewed, only then the record handed to the named spare; then a hold-off of leaseDuration (9)',
    run(d) {
      d.boot()
      d.activate(3)
      d.send({kind: 'handover', id: 1, to: 'b'})
      expect(d.state.role).toBe('fenced')
      expect(isActive(d.state, d.leaseFacts)).toBe(false)
      expect(d.order('resign-lease', 'stop-flows', 'release-lease')).toEqual(['stop-flows'])
      // still the leader: it keeps renewing while its flows stop, so nobody may take the lease meanwhile
      expect(wantsLease(d.state, d.clock.now(), true)).toBe(true)
      d.clock.advance(10)
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      expect(d.last('release-lease')).toEqual({kind: 'release-lease', reason: 'handover', forFence: false, to: 'b'})
      expect(d.has('handover-settled')).toBe(false)
      d.send({kind: 'lease-released', reason: 'handover', released: true, forFence: false})
      expect(d.last('handover-settled')).toEqual({kind: 'handover-settled', id: 1, ok: true, reason: ''})
      expect(d.state.role).toBe('spare')
      expect(d.logs('handover')).toEqual([{ok: true, to: 'b', ms: 10, holdOffMs: 2000}])
      // no fence was counted: a handover is no doubt about the lease
      expect(d.commands.filter(c => c.kind === 'count' && c.metric === 'fences')).toEqual([])
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(false)
      d.clock.advance(1999)
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(false)
      d.clock.advance(1)
      expect(wantsLease(d.state, d.clock.now(), false)).toBe(true)
    },
  },
  {
    name: 'handover: refused unless a settled active (not a spare, not to itself, not while starting) (9)',
    run(d) {
      d.boot()
      d.send({kind: 'handover', id: 1, to: null})
      expect(d.last('handover-settled')).toMatchObject({id: 1, ok: false, reason: 'it is not the active replica (it is spare)'})
      d.acquire(1)
      d.send({kind: 'handover', id: 2, to: null})
      expect(d.last('handover-settled')).toMatchObject({id: 2, ok: false})
      d.send({kind: 'start-answered', id: d.last('start-flows').id, state: 'start'})
      d.send({kind: 'handover', id: 3, to: 'a'})
      expect(d.last('handover-settled')).toMatchObject({id: 3, ok: false, reason: 'cannot hand over to itself (a)'})
      expect(d.has('stop-flows')).toBe(false)
      expect(d.state.role).toBe('active')
    },
  },
  {
    name: 'handover: a stop that does not answer within stopBoundMs (as in a graceful stop) kills Node-RED, whose exit releases the lease and settles the handover (4, 9)',
    run(d) {
      d.boot()
      d.activate(1)
      d.send({kind: 'handover', id: 5, to: null})
      d.clock.advance(249)
      expect(d.has('kill')).toBe(false)
      d.clock.advance(1)
      expect(d.last('kill')).toEqual({kind: 'kill', gen: 1})
      expect(d.logs('flows').at(-1)).toEqual({action: 'kill', reason: 'Node-RED did not confirm the stop within 250 ms'})
      expect(d.has('release-lease')).toBe(false)
      d.send({kind: 'exited', gen: 1, code: null, signal: 'SIGKILL', logTail: ''})
      expect(d.last('handover-settled')).toMatchObject({id: 5, ok: true})
      expect(d.last('release-lease')).toMatchObject({reason: 'node-red-exit'})
    },
  },
  {
    name: 'handover: a SIGTERM during it answers the request and the shutdown stops and releases as usual (8, 9)',
    run(d) {
      d.boot()
      d.activate(1)
      d.send({kind: 'handover', id: 6, to: 'b'})
      d.send({kind: 'stop', reason: 'SIGTERM'})
      expect(d.last('handover-settled')).toMatchObject({id: 6, ok: false, reason: 'the agent is stopping'})
      d.send({kind: 'stop-answered', id: d.last('stop-flows').id, state: 'stop'})
      expect(d.last('release-lease')).toMatchObject({reason: 'shutdown'})
    },
  },
  {
    name: 'handover: the lease lost during the stop is a fence, which answers the request first (2, 9)',
    run(d) {
      d.boot()
      d.activate(1)
      d.send({kind: 'handover', id: 7, to: 'b'})
      d.holder = 'b'
      d.send({kind: 'lease-lost', reason: 'lost'})
      expect(d.last('handover-settled')).toMatchObject({id: 7, ok: false, reason: 'the lease could not be kept during the handover (lease-lost)'})
      expect(d.state.role).toBe('fenced')
      expect(d.last('kill')).toEqual({kind: 'kill', gen: 1})
    },
  },
  {
    name: 'answers about an older Node-RED change nothing (6)',
    run(d) {
      d.answersHealth = false
      d.boot()
      d.clock.advance(500)
      const check = d.last('check-health')
      d.send({kind: 'exited', gen: 1, code: 1, signal: null, logTail: ''})
      d.clock.advance(500)
      d.send({kind: 'spawned', gen: 2, pid: 102, command: 'node-red'})
      d.send({kind: 'health-failed', id: check.id, failure: {kind: 'connection', status: null, message: 'refused'}})
      d.send({kind: 'loaded', gen: 1, rev: 'old'})
      d.send({kind: 'deploy-signal', gen: 1, signal: {deploy: 'start', id: 1, bytes: 1, write: true}})
      expect(d.state.healthFailures).toBe(0)
      expect(d.state.rev).toBeNull()
      expect(d.logs('deploy')).toEqual([])
      expect(d.state.child).toMatchObject({gen: 2, ready: false})
    },
  },
]

describe('supervisor machine (fake clock)', () => {
  it.each(rows)('$name', row => {
    const d = new Driver({...CONFIG, ...row.config})
    row.run(d)
  })

  it('the machine never changes the state it is given', () => {
    const d = new Driver()
    d.boot()
    const before = JSON.stringify(d.state)
    const s = d.state
    step(s, {kind: 'lease-acquired', token: 1, previousHolder: null}, {now: d.clock.now(), wall: d.clock.wall(), lease: d.leaseFacts})
    step(s, {kind: 'stop', reason: 'x'}, {now: d.clock.now(), wall: d.clock.wall(), lease: d.leaseFacts})
    expect(JSON.stringify(s)).toBe(before)
  })
})
