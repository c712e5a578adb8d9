import type {FlowNode} from '../../admin/types.js'
import type {Rule, RuleContext} from '../types.js'

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const repeat = typeof node.repeat === 'string' ? node.repeat.trim() : typeof node.repeat === 'number' ? String(node.repeat) : ''
  const cron = typeof node.crontab === 'string' ? node.crontab.trim() : ''
  const what = repeat && repeat !== '0' ? `repeats every ${repeat} s` : cron ? `runs on a schedule (${cron})` : node.once === true ? 'fires once at start' : ''
  if (!what) return
  ctx.report({
    index,
    message: `Inject ${what}: in load-balanced mode every replica runs its own timer, so it fires once per replica (N replicas, N times the work). Run scheduled jobs on one replica (hot-spare mode, or an external scheduler calling an http in endpoint), or make the work idempotent.`,
  })
}

export const timerEveryReplica: Rule = {
  meta: {
    id: 'timer-every-replica',
    summary: 'inject nodes with repeat, crontab or once, which fire on every load-balanced replica.',
    severity: {'load-balanced': 'warning', 'hot-spare': 'off'},
    docs: 'An inject node with an interval, a crontab schedule or "inject once at start" runs a timer in each Node-RED process. Load-balanced: all replicas run flows, so the job runs once per replica. Hot-spare: not a hazard, only the active replica runs flows. Fix: trigger scheduled work from outside through the load balancer (one http in call), use a lease, or run that part in hot-spare mode.',
  },
  types: ['inject'],
  check,
}
