import {mqttUnsharedSubscription} from '../../../../src/lint/rules/mqtt-unshared-subscription.js'
import {config, node, ruleTable} from './table.js'

const broker = config('mqtt-broker', {broker: 'localhost'})

ruleTable(mqttUnsharedSubscription, {
  valid: [
    {name: 'a $share subscription', nodes: [broker, node('mqtt in', {topic: '$share/g/sensors/#', broker: broker.id})]},
    {name: 'an EMQX $queue subscription', nodes: [broker, node('mqtt in', {topic: '$queue/sensors/#', broker: broker.id})]},
    {name: 'a $share subscription of ff-ha mqtt in', nodes: [broker, node('ff-ha mqtt in', {topic: '$share/g/sensors/#', broker: broker.id})]},
    {name: 'an ff-ha mqtt in without a topic (it has no dynamic subscriptions: it subscribes to nothing)', nodes: [broker, node('ff-ha mqtt in', {topic: '', inputs: 1, broker: broker.id})]},
    {name: 'mqtt out (publishing is not routed)', nodes: [broker, node('mqtt out', {topic: 'a', broker: broker.id})]},
    {name: 'an unshared subscription in hot-spare', nodes: [broker, node('mqtt in', {topic: 'a/b', broker: broker.id})], mode: 'hot-spare'},
  ],
  invalid: [
    {name: 'a plain topic, with the fix named', nodes: [broker, node('mqtt in', {topic: 'sensors/+/t', broker: broker.id})], severity: 'error', says: /\$share\/case\/sensors\/\+\/t.*--fix/},
    {name: 'a plain topic on ff-ha mqtt in (the drop-in subscribes the same way)', nodes: [broker, node('ff-ha mqtt in', {topic: 'sensors/+/t', broker: broker.id})], severity: 'error', says: /\$share\/case\/sensors\/\+\/t.*--fix/},
    {name: 'a dynamic subscription', nodes: [broker, node('mqtt in', {topic: '', inputs: 1, broker: broker.id})], says: /dynamically/},
  ],
})
