import type {FlowNode} from '../../admin/types.js'
import type {HaMode, Rule, RuleContext} from '../types.js'

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  let what: string
  if (node.type === 'tcp in') {
    if (node.server === 'client') return
    what = `listens on TCP port ${node.port ?? '?'}`
  } else if (node.type === 'udp in') {
    what = `listens on UDP port ${node.port ?? '?'}`
  } else if (node.type === 'websocket-listener') {
    what = `accepts WebSocket connections on ${node.path ?? '?'}`
  } else return
  const message =
    (
      {
        'hot-spare': `Only the active replica ${what}: route the port through the load balancer to the active replica, and expect clients to reconnect after a failover.`,
        'load-balanced': `Every replica ${what}: clients reach only the replica the load balancer picks, and connection state (a TCP stream, a WebSocket session) stays there. Route this port through the load balancer with sticky connections, and do not expect replicas to see each other's clients.`,
      } satisfies Record<HaMode, string>
    )[ctx.mode]
  ctx.report({index, message})
}

export const inboundListener: Rule = {
  meta: {
    id: 'inbound-listener',
    summary: 'tcp in (server), udp in and websocket listeners: ports that the load balancer must route.',
    severity: {'load-balanced': 'warning', 'hot-spare': 'info'},
    docs: 'Listeners open a port in each Node-RED process. Load-balanced: each replica has its own listener, clients land on one replica, and stateful connections do not move. Hot-spare: only the active listens; the port must be routed to it and clients must reconnect after a failover. Fix: expose the port through the load balancer (sticky for WebSockets and TCP), keep the handling stateless.',
  },
  types: ['tcp in', 'udp in', 'websocket-listener'],
  check,
}
