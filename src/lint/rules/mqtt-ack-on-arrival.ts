import type {FlowNode} from '../../admin/types.js'
import type {HaMode, Rule, RuleContext} from '../types.js'

/** The QoS core `mqtt in` subscribes with: an unset or invalid qos is 2 (10-mqtt.js). */
function coreQos(node: FlowNode): number {
  const qos = parseInt(String(node.qos), 10)
  return Number.isNaN(qos) || qos < 0 || qos > 2 ? 2 : qos
}

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const qos = coreQos(node)
  if (qos === 0) return
  const loss =
    (
      {
        'hot-spare': 'when the active replica fails, the messages it had received but not finished are lost (the broker will not redeliver them to the new active)',
        'load-balanced': 'when a replica fails, the messages it had received but not finished are lost',
      } satisfies Record<HaMode, string>
    )[ctx.mode]
  // Core's dynamic subscriptions (an input wired to msg.action) have no drop-in: ff-ha mqtt in has no input.
  if (node.inputs === 1 || node.inputs === '1') {
    ctx.report({index, message: `Acknowledges each QoS ${qos} message on arrival, before the flow has handled it: ${loss}. This node subscribes dynamically (msg.action), which ff-ha mqtt in does not do: subscribe to a fixed topic with an ff-ha mqtt in node to get acknowledgement after the flow.`})
    return
  }
  const qos2 = qos === 2 ? ' With QoS 2 the client still sends PUBREC on arrival: set QoS 1 for at-least-once across failover.' : ''
  ctx.report({
    index,
    message: `Acknowledges each QoS ${qos} message on arrival, before the flow has handled it: ${loss}. Use ff-ha mqtt in (same properties), which acknowledges only after every node the message reached has finished with it (fixable with --fix).${qos2}`,
    fix: {index, key: 'type', from: 'mqtt in', to: 'ff-ha mqtt in'},
  })
}

export const mqttAckOnArrival: Rule = {
  meta: {
    id: 'mqtt-ack-on-arrival',
    summary: 'Core mqtt in nodes with QoS 1 or 2: they acknowledge on arrival, so a failover loses messages in flight.',
    severity: {'hot-spare': 'warning', 'load-balanced': 'info'},
    fixable: true,
    docs:
      'Core `mqtt in` acknowledges a QoS 1 or 2 message (PUBACK) as soon as it arrives, before the flow has handled it. ' +
      'If the replica fails before the flow finishes, the broker considers the message delivered and it is lost. ' +
      '`ff-ha mqtt in` is a drop-in (same properties, same mqtt-broker config node; docs/design/mqtt-at-least-once.md) that acknowledges only after every node the message reached has called done(), ' +
      'so in hot-spare (one fixed client id, persistent session) the broker redelivers unfinished messages to the new active. ' +
      '`ff-ha lint flows --fix` rewrites the node\'s type and nothing else; it runs whenever the rule is on (turn it off with `--rule mqtt-ack-on-arrival=off` to keep core nodes, e.g. for flows that also run on a Node-RED without ff-ha\'s nodes: an unknown type stops the flows there). ' +
      'Not fixed: dynamic subscriptions (ff-ha mqtt in has none). QoS 2 gains less (MQTT.js sends PUBREC on arrival); an unset qos is 2 for core and 1 for ff-ha mqtt in. QoS 0 is never acknowledged, so not a finding. ' +
      'Hot-spare: warning. Load-balanced: info, because with shared subscriptions the broker may drop the in-flight messages of a member that disconnects anyway (Mosquitto 2.0, upstream #2662), so acknowledging later does not make a replica failure lossless there.',
  },
  types: ['mqtt in'],
  check,
}
