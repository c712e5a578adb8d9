import type {FlowNode} from '../../admin/types.js'
import {isSharedTopic, MQTT_IN_TYPES} from '../feeding.js'
import type {Rule, RuleContext} from '../types.js'

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const topic = node.topic
  if (isSharedTopic(topic)) return
  if (typeof topic !== 'string' || topic === '') {
    // ff-ha mqtt in has no dynamic subscriptions: without a topic it subscribes to nothing.
    if (node.inputs === 1 && node.type === 'mqtt in') {
      ctx.report({index, message: 'Subscribes dynamically (msg.topic at run time): every replica that subscribes gets every message. Subscribe to $share/<group>/<topic> in the action message.'})
    }
    return
  }
  const to = `$share/${ctx.shareGroup}/${topic}`
  ctx.report({
    index,
    message: `Subscribes to "${topic}" without a shared subscription: every load-balanced replica receives every message and handles it once each. Subscribe to "${to}" so that the broker hands each message to one replica (fixable with --fix; the broker must support shared subscriptions, as Mosquitto 2 and MQTT 5 brokers do).`,
    fix: {index, key: 'topic', from: topic, to},
  })
}

export const mqttUnsharedSubscription: Rule = {
  meta: {
    id: 'mqtt-unshared-subscription',
    summary: 'mqtt in (and ff-ha mqtt in) nodes whose topic is not a $share/<group>/ shared subscription.',
    severity: {'load-balanced': 'error', 'hot-spare': 'off'},
    fixable: true,
    docs: 'In load-balanced mode every replica connects to the broker and subscribes. A plain subscription delivers each message to every replica, so each message is processed N times. A shared subscription ($share/<group>/<filter>) makes the broker deliver each message to one member of the group. There is no node property for it: the topic itself carries the prefix. `ff-ha lint flows --fix` rewrites the topic (the group is --share-group, the profile\'s mqtt.shareGroup, or the flows file name). Hot-spare: not a hazard, only the active replica connects.',
  },
  types: MQTT_IN_TYPES,
  check,
}
