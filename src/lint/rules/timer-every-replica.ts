import {createHash} from 'node:crypto'
import type {FlowNode} from '../../admin/types.js'
import type {FlowsModel} from '../../flows/model.js'
import type {Fix, Rule, RuleContext} from '../types.js'

/** The node that passes messages only on the replica holding a named singleton lease (nodes/singleton.js). */
export const SINGLETON_TYPE = 'ff-ha singleton'

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const repeat = typeof node.repeat === 'string' ? node.repeat.trim() : typeof node.repeat === 'number' ? String(node.repeat) : ''
  const cron = typeof node.crontab === 'string' ? node.crontab.trim() : ''
  const repeating = (repeat !== '' && repeat !== '0') || cron !== ''
  const what = repeat && repeat !== '0' ? `repeats every ${repeat} s` : cron ? `runs on a schedule (${cron})` : node.once === true ? 'fires once at start' : ''
  if (!what) return
  const targets = wiresOf(node)
  // Already guarded: every message goes through a singleton, which passes it on one replica only.
  if (targets.length > 0 && targets.every(id => ctx.model.nodes[ctx.model.indexOf.get(id) ?? -1]?.type === SINGLETON_TYPE)) return
  const message = `Inject ${what}: in load-balanced mode every replica runs its own timer, so it fires once per replica (N replicas, N times the work).`
  if (!repeating) {
    const why = `it fires once at start: an ${SINGLETON_TYPE} node would drop that one message on every replica that does not hold the lease yet`
    ctx.report({index, message: `${message} Run start-up work that must happen once from outside, or make it idempotent (--fix leaves it: ${why}).`, notFixed: why})
    return
  }
  const guard = `Put an ${SINGLETON_TYPE} node after it, so that only the replica holding the singleton lease passes its messages on (another replica takes over within the lease time if that one fails)`
  if (targets.length === 0) {
    ctx.report({index, message: `${message} ${guard}, once it is wired to something (it has no wires, so --fix leaves it).`, notFixed: 'it has no wires: there is nothing to guard'})
    return
  }
  const fix = singletonFix(ctx.model, node, index)
  ctx.report({index, message: `${message} ${guard}: --fix inserts one named "${String(fix.insert!.node.name)}" between the inject and its targets (its replicas need ff-ha's nodes and an agent with a lease backend). Or trigger the job from outside through the load balancer.`, fix})
}

function wiresOf(node: FlowNode): string[] {
  const out: string[] = []
  if (!Array.isArray(node.wires)) return out
  for (const port of node.wires as unknown[]) if (Array.isArray(port)) for (const id of port) if (typeof id === 'string') out.push(id)
  return out
}

/** inject -> singleton -> the inject's old targets; the singleton's id is derived from the inject's id. */
function singletonFix(model: FlowsModel, inject: FlowNode, index: number): Fix {
  const oldWires = Array.isArray(inject.wires) ? (inject.wires as unknown[]) : []
  const id = singletonId(model, inject.id)
  const x = typeof inject.x === 'number' ? inject.x : 100
  const y = typeof inject.y === 'number' ? inject.y : 100
  const singleton: FlowNode = {
    id,
    type: SINGLETON_TYPE,
    z: inject.z,
    ...(typeof inject.g === 'string' ? {g: inject.g} : {}),
    name: leaseName(inject),
    // Below and to the right of the inject: between it and its targets, off its own line of wires.
    x: x + 160,
    y: y + 40,
    wires: [wiresOf(inject)],
  } as FlowNode
  return {index, key: 'wires', from: JSON.stringify(oldWires), to: JSON.stringify([[id]]), insert: {wires: [[id]], node: singleton}}
}

/** 16 hex digits like Node-RED's ids, the same for the same inject on every run; never an id in use. */
function singletonId(model: FlowsModel, injectId: string): string {
  for (let n = 0; ; n++) {
    const id = createHash('sha256').update(`${SINGLETON_TYPE}\0${injectId}\0${n}`).digest('hex').slice(0, 16)
    if (!model.indexOf.has(id)) return id
  }
}

/**
 * The singleton lease's name: the inject's name or id as a DNS label (a lease is a Kubernetes Lease or an etcd
 * key named after it), so that each repeating job has its own lease.
 */
function leaseName(inject: FlowNode): string {
  const base = typeof inject.name === 'string' && inject.name.trim() ? inject.name : `inject-${inject.id}`
  const label = base.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '')
  return label || `inject-${createHash('sha256').update(inject.id).digest('hex').slice(0, 8)}`
}

export const timerEveryReplica: Rule = {
  meta: {
    id: 'timer-every-replica',
    summary: 'inject nodes with repeat, crontab or once, which fire on every load-balanced replica.',
    severity: {'load-balanced': 'warning', 'hot-spare': 'off'},
    fixable: true,
    docs: 'An inject node with an interval, a crontab schedule or "inject once at start" runs a timer in each Node-RED process. Load-balanced: all replicas run flows, so the job runs once per replica. Hot-spare: not a hazard, only the active replica runs flows. Fix: put an `ff-ha singleton` node after a repeating inject (it passes messages only on the replica that holds the named singleton lease; `ff-ha lint flows --fix` inserts it, wired inject -> singleton -> the old targets, its lease named after the inject), trigger scheduled work from outside through the load balancer (one http in call), or run that part in hot-spare mode. An inject that fires only once at start is not fixed: a singleton would drop that message on the replicas that do not hold the lease yet.',
  },
  types: ['inject'],
  check,
}
