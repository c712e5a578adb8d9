import type {FlowNode} from '../../admin/types.js'
import type {HaMode, Rule, RuleContext} from '../types.js'
import {modeOf} from '../../modes/index.js'

// One finding per file: the Dashboard's base config node, or the first widget when there is none.
const BASES = new Set(['ui_base', 'ui-base'])

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  if (reportedAt(ctx) !== index) return
  const message =
    (
      {
        'hot-spare':
          'The Dashboard is served by the active replica only: after a failover the open page reconnects to the new active by itself (socket.io retries through the proxy), and its widgets show what the new active produces from then on (a chart\'s history or a counter kept in memory starts again). Keep values that must survive a failover in a persistent or shared context store.',
        'load-balanced':
          'Each replica runs its own Dashboard: its widgets show what that replica processed, so with inputs spread over replicas no replica sees all of them and two browsers may show different values; a button press runs the flow on the browser\'s replica only. Sticky sessions (http.sticky, rendered by ff-ha) keep one browser on one replica, and socket.io needs them. Feed widgets from a shared store (shared context, a database, retained MQTT topics every replica subscribes to without a share group), or run the Dashboard in hot-spare mode.',
      } satisfies Record<HaMode, string>
    )[ctx.mode]
  // Every replica serving without sticky sessions: a browser bounces between replicas and socket.io's polling breaks.
  if (!modeOf(ctx.mode).singleActive && ctx.profile?.sticky === false) {
    ctx.report({index, severity: 'error', message: `The profile turns sticky sessions off (http.sticky: false): every page load and socket.io poll may reach another replica, which does not know the session, so the Dashboard loses its connection and shows another replica's values each time. Set http.sticky: true. ${message}`})
    return
  }
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
    docs: 'Node-RED Dashboard 1 (ui_*) and Dashboard 2 (@flowfuse/node-red-dashboard, ui-*) keep a socket.io session per browser and widget values in the process that runs the flows (docs/design/dashboard.md). Load-balanced: each replica has its own Dashboard, whose widgets show what that replica processed; sticky sessions (http.sticky, rendered by ff-ha) keep one browser on one replica, and the finding is an error when the profile (--profile) turns them off. Feed widgets from a shared store, or run the Dashboard in hot-spare mode. Hot-spare (info): the open page reconnects to the new active after a failover, and widget values start from what the new active produces. Reported once per file.',
  },
  types: isUi,
  check,
}
