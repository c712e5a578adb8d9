// deployFlows: one flows file to every replica, proven converged. Preflight all (nothing changes if any
// replica is not fit), deploy in waves (hot-spare: spares first, the active last; load-balanced: rolling or
// parallel), confirm each replica's rev and state, and roll back the replicas already changed when one fails.
// Never throws for a replica's failure: the report says what every replica runs now, and ok=false.
import {performance} from 'node:perf_hooks'
import {AdminClient} from '../admin/client.js'
import {AdminError} from '../admin/errors.js'
import type {FlowsState, ReplicaTarget} from '../admin/types.js'
import {CheckFailedError, errorMessage, InputError} from '../errors.js'
import type {Progress} from '../output/progress.js'
import {redact} from '../output/secrets.js'
import {checkCredentials, checkCredentialsMatchFlows} from './credentials.js'
import {diffFlows} from './diff.js'
import {activesProblem, expectedStates, preflightProblem, preflightReplica, roleOf, type Preflight} from './preflight.js'
import {flowsRev, shortRev} from './rev.js'
import {resolveStrategy, planWaves} from './strategy.js'
import {handBack, handOver, handoverObstacle, handoverRefusal, waitSpare, type HandoverReport} from './handover.js'
import type {DeployOptions, DeployReport, DeployRole, ReplicaReport} from './types.js'
import type {Party} from './handover.js'
import {observe, SpareStartedError, waitForRevAndState} from './verify.js'
import {modeOf} from '../modes/index.js'

export type {DeployOptions, DeployReport, ReplicaReport, DeployStatus, Strategy, DeployRole} from './types.js'
export {flowsRev} from './rev.js'

interface Run {
  name: string
  client: AdminClient
  report: ReplicaReport
  pre?: Preflight
  role: DeployRole
  states: FlowsState[]
  /** A POST /flows was sent: it may have applied even if the answer was lost. */
  attempted: boolean
  /** The rev the replica answered our POST with. */
  posted?: string
  /** Our POST reached the replica but got no answer: it may yet apply it (a hung process wakes up). */
  unanswered?: boolean
}

const silent: Progress = {start() {}, succeed() {}, fail() {}, info() {}}

export async function deployFlows(options: DeployOptions): Promise<DeployReport> {
  const t0 = performance.now()
  checkOptions(options)
  const {mode, flows} = options
  let strategy = resolveStrategy(mode, options.strategy)
  const progress = options.progress ?? silent
  const rev = flowsRev(flows)
  const runs: Run[] = options.replicas.map(target => newRun(target, options))
  let handover: HandoverReport | undefined
  let note: string | undefined
  const finish = (error?: string): DeployReport => ({
    rev,
    // Errors never carry secrets by construction; redact anyway, as this report goes to --json as is.
    replicas: runs.map(r => (r.report.error ? {...r.report, error: redact(r.report.error)} : r.report)),
    durationMs: since(t0),
    ok: !error,
    ...(error ? {error: redact(error)} : {}),
    mode,
    strategy,
    dryRun: Boolean(options.dryRun),
    ...(handover ? {handover} : {}),
    ...(note ? {note} : {}),
  })

  try {
    const refusal = await preflightAll(runs, mode, progress, options.statusToken)
    if (refusal) return {...finish(refusal.message), ...(refusal.hint ? {hint: refusal.hint} : {})}
    // A handover needs an active with an agent that accepts it, and a spare: ask before anything changes.
    const active = strategy === 'handover' ? runs.find(r => r.role === 'active') : undefined
    if (active) {
      const spares = runs.filter(r => r.role === 'spare').map(party)
      const obstacle = handoverObstacle(party(active), spares, options.statusToken) ?? (await handoverRefusal(party(active), options.statusToken))
      const why = typeof obstacle === 'string' ? obstacle : obstacle?.message
      if (why) {
        // Asked for by name: refuse. By default: deploy in place, as before handovers, and say why.
        if (options.strategy === 'handover' || (typeof obstacle === 'object' && !obstacle.fallback)) {
          return {...finish(`refused before any change: cannot hand over: ${why}`), hint: 'give every agent and ff-ha deploy the status token (secrets.statusTokenEnv), or pass --strategy in-place'}
        }
        strategy = 'in-place'
        note = `deployed in place, not by handover: ${why}`
        progress.info(note)
      }
    }
    if (options.dryRun) {
      for (const run of runs) run.report.changes = run.pre!.rev === rev ? {added: [], removed: [], changed: []} : diffFlows(run.pre!.flows, flows)
      return finish()
    }
    await options.hooks?.afterPreflight?.()

    let failed: Run[] = []
    let handedOver = false
    for (const wave of planWaves(runs, mode, strategy, options.maxUnavailable)) {
      if (strategy === 'handover' && active && wave.includes(active)) {
        // The last wave is the active: first hand its lease to an updated spare, then deploy it as a spare.
        const step = await handOverStep(active, runs, rev, options, progress)
        handover = step.report
        if (!step.ok) {
          failed = [active]
          break
        }
        handedOver = true
      }
      await Promise.all(wave.map(run => deployOne(run, rev, options, strategy, progress)))
      failed = wave.filter(r => r.report.status === 'failed')
      if (failed.length > 0) break
    }

    // After a handover the new active serves the new flows: undoing that would cost a second gap to go back
    // to flows nobody wants; the old active stays a spare with its old flows (the report says so).
    const rollback = options.rollback !== false && !handedOver
    const rolledBack = failed.length > 0 && rollback ? await rollbackAll(runs, rev, options, progress) : []
    // What every replica runs now. A clean deploy has just confirmed each one (rev and state); after a
    // failure, ask them all again.
    await Promise.all(runs.filter(run => failed.length > 0 || run.report.status !== 'deployed').map(async run => {
      const now = await observe(run.client)
      run.report.after = {rev: now.rev, state: now.state}
      if (now.error && !run.report.error) run.report.error = `after the deploy: ${now.error}`
    }))
    if (failed.length > 0) {
      // A POST that got no answer may sit in a hung replica's socket buffer and be applied when it wakes.
      const unknown = runs.filter(r => r.unanswered).map(r => r.name)
      const hint = unknown.length > 0 ? `${unknown.join(', ')} may still apply this deploy when it answers again: once it does, run ff-ha deploy again to converge every replica` : undefined
      const after = handedOver ? `the handover is done (${handover!.to} is active with rev ${shortRev(rev)}); ${failed.map(r => r.name).join(', ')} still runs its old flows as a spare: run ff-ha deploy again` : undefined
      return {...finish(failureMessage(runs, failed, rolledBack, rollback, after)), ...(hint ? {hint} : {})}
    }
    // Node-RED's own hash is the truth: should it ever differ from ours (it hashes what it saved), every
    // replica must still agree on it.
    const theirs = runs.find(r => r.posted && r.posted !== rev)?.posted
    if (theirs) return {...finish(convergenceProblem(runs, theirs)), rev: theirs}
    return finish(convergenceProblem(runs, rev))
  } finally {
    await Promise.all(runs.map(r => r.client.close().catch(() => {})))
  }
}

function newRun(target: ReplicaTarget, options: DeployOptions): Run {
  return {
    name: target.name,
    client: new AdminClient(target, {...options.clientOptions, auth: options.auth}),
    report: {name: target.name, url: target.url, before: {rev: null, state: null}, after: {rev: null, state: null}, status: 'unchanged', durationMs: 0},
    role: 'member',
    states: [],
    attempted: false,
  }
}

function checkOptions(options: DeployOptions): void {
  if (options.replicas.length === 0) throw new InputError('no replicas to deploy to', 'pass --target URL, or list them in the profile (deploy.replicas)')
  const names = options.replicas.map(r => r.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup) throw new InputError(`replica "${dup}" is listed twice`, 'give each --target a distinct name (--target name=URL)')
  if (options.maxUnavailable !== undefined && !(options.maxUnavailable >= 1)) throw new InputError('--max-unavailable must be at least 1')
  const ids = new Set<string>()
  for (const node of options.flows) {
    if (ids.has(node.id)) throw new InputError(`the flows have two nodes with id "${node.id}"`, 'node ids must be unique')
    ids.add(node.id)
  }
  if (options.credentials) {
    checkCredentials(options.credentials)
    checkCredentialsMatchFlows(options.credentials, options.flows)
  }
}

/** Read every replica at once; return why the deploy must not go ahead, or undefined. */
async function preflightAll(runs: Run[], mode: DeployOptions['mode'], progress: Progress, statusToken?: string): Promise<{message: string; hint?: string} | undefined> {
  const problems: Array<{name: string; message: string; hint?: string}> = []
  await Promise.all(runs.map(async run => {
    const t = performance.now()
    progress.start(run.name, `${run.name}: preflight`)
    try {
      const pre = await preflightReplica(run.client, undefined, statusToken)
      run.pre = pre
      run.role = roleOf(mode, pre)
      run.states = expectedStates(run.role, pre)
      run.report.before = {rev: pre.rev, state: pre.state}
      run.report.after = {...run.report.before}
      run.report.role = run.role
      const problem = preflightProblem(mode, run.role, pre)
      if (problem) throw new CheckFailedError(`${run.name}: ${problem}`)
      progress.succeed(run.name, `${run.name}: rev ${shortRev(pre.rev)}, flows ${pre.state}${modeOf(mode).deploy.roles ? `, ${run.role}` : ''}`)
    } catch (err) {
      run.report.status = 'failed'
      run.report.error = errorMessage(err)
      problems.push({name: run.name, message: withoutName(run.name, run.report.error), hint: (err as {hint?: string}).hint})
      progress.fail(run.name, run.report.error)
    } finally {
      run.report.durationMs = since(t)
    }
  }))
  const actives = runs.filter(r => r.pre && r.role === 'active').map(r => r.name)
  const dual = activesProblem(mode, actives)
  if (dual) problems.push({name: '', message: dual})
  if (problems.length === 0) return undefined
  // The same problem on every replica (a wrong token) reads best as one line naming them all.
  const order = new Map(runs.map((r, i) => [r.name, i]))
  problems.sort((a, b) => (order.get(a.name) ?? runs.length) - (order.get(b.name) ?? runs.length))
  const grouped = new Map<string, string[]>()
  for (const p of problems) grouped.set(p.message, [...(grouped.get(p.message) ?? []), p.name])
  const lines = [...grouped].map(([message, names]) => (names.filter(Boolean).length ? `${names.join(', ')}: ${message}` : message))
  const more = lines.length > 3 ? ` (and ${lines.length - 3} more)` : ''
  return {message: `refused before any change: ${lines.slice(0, 3).join('; ')}${more}`, hint: problems.find(p => p.hint)?.hint}
}

function withoutName(name: string, message: string): string {
  return message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message
}

async function deployOne(run: Run, rev: string, options: DeployOptions, strategy: string, progress: Progress): Promise<void> {
  const t = performance.now()
  const pre = run.pre!
  const sized = sizedTimeouts(options)
  try {
    if (pre.rev === rev && !options.credentials) {
      run.report.status = 'unchanged'
      progress.succeed(run.name, `${run.name}: already runs rev ${shortRev(rev)}`)
      return
    }
    progress.start(run.name, `${run.name}: deploying rev ${shortRev(rev)}${modeOf(options.mode).deploy.roles ? ` (${run.role})` : ''}`)
    run.attempted = true
    const posted = await run.client.postFlows(options.flows, {rev: options.force ? undefined : pre.rev, credentials: options.credentials, type: options.type ?? 'full', timeoutMs: sized.requestMs}).catch(async err => {
      // Its agent may have brought it to these very flows meanwhile (the shared flows record,
      // docs/design/editor-deploy.md): Node-RED refuses our older rev with 409, and runs ours.
      if (err instanceof AdminError && err.kind === 'conflict' && (await observe(run.client)).rev === rev) return {rev}
      throw err
    })
    run.posted = posted.rev
    // POST /flows answers before the flows started: confirm the state. The answer's rev is Node-RED's hash
    // of what it saved; when it equals the file's rev that is the proof, else read the flows back.
    run.report.after = await waitForRevAndState(run.client, posted.rev, run.states, {
      timeoutMs: sized.verifyMs,
      health: strategy === 'rolling',
      failOnStart: run.role === 'spare',
      revReported: posted.rev === rev,
    })
    run.report.status = 'deployed'
    progress.succeed(run.name, `${run.name}: runs rev ${shortRev(posted.rev)}, flows ${run.report.after.state}`)
  } catch (err) {
    run.report.status = 'failed'
    run.report.error = errorMessage(err)
    if (!run.posted && err instanceof AdminError) {
      run.unanswered = err.kind === 'timeout' || (err.kind === 'unreachable' && !/connection refused|not found|no route/.test(err.message))
    }
    if (err instanceof SpareStartedError) {
      // Two replicas running flows is the one thing hot-spare must never allow: stop it first, report after.
      try {
        await run.client.setFlowsState('stop')
        run.report.error += '; ff-ha stopped its flows again'
      } catch (stopErr) {
        run.report.error += `; stopping its flows failed too: ${errorMessage(stopErr)}`
      }
    }
    progress.fail(run.name, run.report.error)
  } finally {
    run.report.durationMs = since(t)
    await options.hooks?.afterReplica?.(run.name, run.report.status)
  }
}

function party(run: Run): Party {
  return {name: run.name, client: run.client, agentUrl: run.client.replica.agentUrl, agentReplica: run.pre?.agentReplica}
}

/**
 * Hand the active's lease to an updated spare; on success the active is a spare from here on (its deploy
 * must leave it stopped). On failure the active's report says why; if the active had already stopped its
 * flows, the lease is handed back first, so that the rollback of the spares happens with the old active
 * serving its old flows again.
 */
async function handOverStep(active: Run, runs: Run[], rev: string, options: DeployOptions, progress: Progress): Promise<{ok: boolean; report: HandoverReport}> {
  const spares = runs.filter(r => r.role === 'spare' && r.report.status !== 'failed').map(party)
  const timeoutMs = options.verifyTimeoutMs ?? 30_000
  progress.start(active.name, `${active.name}: handing the lease to an updated spare`)
  const outcome = await handOver(party(active), spares, rev, options.statusToken, timeoutMs)
  const report: HandoverReport = {from: active.name, to: outcome.to, ms: outcome.ms}
  if (outcome.ok) {
    active.role = 'spare'
    active.states = ['stop']
    const next = runs.find(r => r.name === outcome.to)!
    next.role = 'active'
    next.states = ['start']
    next.report.after = {rev, state: 'start'}
    progress.succeed(active.name, `${active.name}: handed over to ${outcome.to} in ${outcome.ms} ms`)
    await waitSpare(party(active), options.statusToken, timeoutMs)
    return {ok: true, report}
  }
  active.report.status = 'failed'
  active.report.error = `${active.name}: ${outcome.error}`
  if (outcome.changedActive) {
    const back = await handBack(party(active), spares, options.statusToken, timeoutMs)
    report.undone = back.ok
    active.report.error += back.ok ? `; handed back: ${back.detail}` : `; handing back failed: ${back.detail}`
  }
  progress.fail(active.name, active.report.error)
  return {ok: false, report}
}

/** Put back the flows each changed replica had. Only replicas that run our rev are touched. */
async function rollbackAll(runs: Run[], rev: string, options: DeployOptions, progress: Progress): Promise<string[]> {
  const rolled: string[] = []
  await Promise.all(runs.filter(r => r.attempted && r.pre!.rev !== rev).map(async run => {
    const t = performance.now()
    const pre = run.pre!
    const now = await observe(run.client)
    const wasFailed = run.report.status === 'failed'
    if (now.rev !== rev) {
      // Ours never applied (or someone deployed after us): nothing of ours to undo here.
      if (!wasFailed) {
        run.report.status = 'failed'
        run.report.error = now.rev === null ? `cannot roll back: ${now.error}` : `changed by someone else during the deploy (now rev ${shortRev(now.rev)}); not rolled back`
      }
      return
    }
    progress.start(run.name, `${run.name}: rolling back to rev ${shortRev(pre.rev)}`)
    try {
      // With our rev as the guard: a deploy made by someone else since then is a 409, not overwritten.
      const posted = await run.client.postFlows(pre.flows, {rev, type: 'full'})
      await waitForRevAndState(run.client, posted.rev, run.states, {timeoutMs: options.verifyTimeoutMs ?? 30_000, failOnStart: run.role === 'spare'})
      rolled.push(run.name)
      if (wasFailed) run.report.error += ` (rolled back to rev ${shortRev(pre.rev)})`
      else run.report.status = 'rolled-back'
      progress.succeed(run.name, `${run.name}: rolled back to rev ${shortRev(pre.rev)}`)
    } catch (err) {
      run.report.status = 'failed'
      run.report.error = `${wasFailed ? run.report.error + '; ' : ''}rollback failed: ${errorMessage(err)}`
      progress.fail(run.name, run.report.error)
    } finally {
      run.report.durationMs += since(t)
    }
  }))
  return runs.map(r => r.name).filter(name => rolled.includes(name))
}

function failureMessage(runs: Run[], failed: Run[], rolledBack: string[], rollback: boolean, instead?: string): string {
  const first = failed[0].report.error ?? `${failed[0].name} failed`
  const parts = [`deploy failed: ${first}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`]
  if (instead) parts.push(instead)
  else if (rollback) parts.push(rolledBack.length > 0 ? `rolled back ${rolledBack.join(', ')}` : 'nothing to roll back')
  else parts.push('not rolled back (--no-rollback)')
  const split = revisionSplit(runs)
  if (split) parts.push(`replicas now run different revisions: ${split}`)
  return parts.join('; ')
}

/** Every replica must run the new rev, a spare stopped. Returns the problem, or undefined. */
function convergenceProblem(runs: Run[], rev: string): string | undefined {
  const off = runs.filter(r => r.report.after.rev !== rev || (r.report.after.state !== null && !r.states.includes(r.report.after.state)))
  if (off.length === 0) return undefined
  return `not converged: ${off.map(r => `${r.name} runs rev ${shortRev(r.report.after.rev)} (${r.report.after.state ?? 'unknown'})`).join(', ')}; expected rev ${shortRev(rev)}`
}

function revisionSplit(runs: Run[]): string | undefined {
  const byRev = new Map<string, string[]>()
  for (const r of runs) {
    const key = r.report.after.rev === null ? 'unknown' : shortRev(r.report.after.rev)
    byRev.set(key, [...(byRev.get(key) ?? []), r.name])
  }
  if (byRev.size <= 1) return undefined
  return [...byRev].map(([k, names]) => `${names.join(', ')} on ${k}`).join('; ')
}

/**
 * A replica answers POST /flows only after it has parsed, saved and stopped the old flows, and starts the new
 * ones after: both grow with the flows (measured here, 5 MB of mixed nodes: over 15 s to answer on an active
 * replica, on 2 busy cores). So the bounds never go below 30 s per MB of flows, whatever --timeout and
 * --verify-timeout say; small files keep the given bounds.
 */
export const DEPLOY_MS_PER_MB = 30_000

export function sizedTimeouts(options: Pick<DeployOptions, 'flows' | 'clientOptions' | 'verifyTimeoutMs'>): {requestMs: number; verifyMs: number} {
  const mb = Buffer.byteLength(JSON.stringify(options.flows)) / (1024 * 1024)
  const floor = Math.ceil(mb * DEPLOY_MS_PER_MB)
  return {requestMs: Math.max(options.clientOptions?.requestTimeoutMs ?? 15_000, floor), verifyMs: Math.max(options.verifyTimeoutMs ?? 30_000, floor)}
}

function since(t: number): number {
  return Math.round(performance.now() - t)
}
