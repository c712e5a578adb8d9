import type {FlowNode} from '../../admin/types.js'
import {MQTT_IN_TYPES} from '../feeding.js'
import type {Rule, RuleContext} from '../types.js'

const usedBrokers = new WeakMap<object, Set<unknown>>()

// Node-RED connects a broker config only when an mqtt node uses it: an unused one is no hazard.
function usedByActiveNode(index: number, ctx: RuleContext): boolean {
  let used = usedBrokers.get(ctx.model)
  if (!used) {
    used = new Set()
    for (const type of [...MQTT_IN_TYPES, 'mqtt out']) {
      for (const i of ctx.model.byType.get(type) ?? []) if (!ctx.model.isDisabled(i)) used.add(ctx.model.nodes[i].broker)
    }
    usedBrokers.set(ctx.model, used)
  }
  return used.has(ctx.model.nodes[index].id)
}

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const clientId = typeof node.clientid === 'string' ? node.clientid.trim() : ''
  // ${HOSTNAME} and the like differ per replica: env substitution makes the id unique, which is the fix.
  if (!clientId || /\$\{[^}]+\}/.test(clientId)) return
  if (!usedByActiveNode(index, ctx)) return
  ctx.report({
    index,
    message: `Broker config uses the fixed client id "${clientId}": every load-balanced replica connects with it, and the broker drops the older connection each time another replica connects, so they knock each other off in a loop. Leave the client id empty (generated) or make it unique per replica, e.g. "${clientId}-\${HOSTNAME}".`,
  })
}

export const mqttFixedClientId: Rule = {
  meta: {
    id: 'mqtt-fixed-client-id',
    summary: 'mqtt-broker config nodes with a fixed client id, shared by all load-balanced replicas.',
    severity: {'load-balanced': 'error', 'hot-spare': 'off'},
    docs: 'An MQTT broker allows one connection per client id: a new connection with the same id takes over and the old one is dropped. Load-balanced replicas that share one mqtt-broker config with a fixed clientid keep disconnecting each other. Fix: leave clientid empty so each connection gets a random one, or include something unique per replica (${HOSTNAME}). Hot-spare: a fixed id with cleansession false is the recommended setting (only the active connects, and the broker hands it the queued messages), so the rule is off.',
  },
  types: ['mqtt-broker'],
  check,
}
