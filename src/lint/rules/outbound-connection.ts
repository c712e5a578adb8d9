import type {FlowNode} from '../../admin/types.js'
import type {Rule, RuleContext, Severity} from '../types.js'

function describe(node: FlowNode): {what: string; severity?: Severity} | undefined {
  switch (node.type) {
    case 'tcp in':
      return node.server === 'client' ? {what: `connects out to ${node.host ?? '?'}:${node.port ?? '?'} and reads from it`} : undefined
    case 'tcp out':
      return node.beserver === 'client' ? {what: `connects out to ${node.host ?? '?'}:${node.port ?? '?'}`} : undefined
    case 'tcp request':
      return {what: `opens connections to ${node.server || 'msg.host'}:${node.port || 'msg.port'}`}
    case 'websocket-client':
      return {what: `connects to ${node.path ?? '?'}`}
    case 'serial-port':
      return {what: `opens the serial port ${node.serialport ?? '?'}, which exists on one host only`, severity: 'error'}
  }
  return undefined
}

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const d = describe(node)
  if (!d) return
  ctx.report({
    index,
    severity: d.severity,
    message: `Every load-balanced replica ${d.what}: the remote end sees N connections, and each replica receives what that connection sends. Move out-bound connections to one replica (hot-spare mode) or make sure the remote end allows it.`,
  })
}

export const outboundConnection: Rule = {
  meta: {
    id: 'outbound-connection',
    summary: 'tcp/websocket clients and serial ports that every load-balanced replica opens.',
    severity: {'load-balanced': 'warning', 'hot-spare': 'off'},
    docs: 'Client connections (tcp in/out in client mode, tcp request, websocket-client) and serial ports are opened by every replica that runs flows. Load-balanced: the device or server gets one connection per replica, each replica receives its own copy of the data, and a serial port can only be opened on the host it is attached to (an error). Hot-spare: only the active replica connects, which is the point of the mode, so the rule is off.',
  },
  types: ['tcp in', 'tcp out', 'tcp request', 'websocket-client', 'serial-port'],
  check,
}
