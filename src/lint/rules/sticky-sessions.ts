import type {FlowNode} from '../../admin/types.js'
import type {HaMode, Rule, RuleContext} from '../types.js'

// One finding per file: the Dashboard's base config node, or the first widget when there is none.
const BASES = new Set(['ui_base', 'ui-base'])

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  if (reportedAt(ctx) !== index) return
  const message =
    (
      {
        'hot-spare': 'The Dashboard session lives on the active replica: after a failover browsers reconnect to the new active and widget state starts empty.',
        'load-balanced': 'The Dashboard keeps a socket.io session and widget state in each replica: without sticky sessions a browser bounces between replicas and loses its session, and each replica shows its own values. Enable sticky sessions in the load balancer (ff-ha renders them for the editor and Dashboard), and keep shared values in a shared store.',
      } satisfies Record<HaMode, string>
    )[ctx.mode]
  ctx.report({index, message})
}

const chosen = new WeakMap<object, number>()

/** The node the one finding goes to: the first active base config node, else the first active widget. */
function reportedAt(ctx: RuleContext): number {
  let at = chosen.get(ctx.model)
  if (at === undefined) {
    const {byType, types, isDisabled} = ctx.model
    const candidates = [...BASES].flatMap(t => byType.get(t) ?? [])
    if (candidates.length === 0) for (const type of types) if (isUi(type)) for (const i of byType.get(type) ?? []) candidates.push(i)
    at = candidates.sort((a, b) => a - b).find(i => !isDisabled(i)) ?? candidates[0] ?? -1
    chosen.set(ctx.model, at)
  }
  return at
}

function isUi(type: string): boolean {
  return type.startsWith('ui_') || type.startsWith('ui-')
}

export const stickySessions: Rule = {
  meta: {
    id: 'sticky-sessions',
    summary: 'Dashboard (ui_* / ui-*) nodes: sessions and widget state per replica need sticky sessions.',
    severity: {'load-balanced': 'warning', 'hot-spare': 'info'},
    docs: 'Node-RED Dashboard 1 (ui_*) and Dashboard 2 (ui-*) keep a websocket session per browser and widget state in the process, as the editor keeps its session. Load-balanced: the load balancer must pin each browser to one replica (sticky sessions), and values shown differ per replica unless kept in a shared store. Hot-spare: sessions reconnect to the new active after a failover. Reported once per file.',
  },
  types: isUi,
  check,
}
