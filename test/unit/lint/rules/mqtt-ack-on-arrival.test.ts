import {expect, it} from 'vitest'
import {mqttAckOnArrival} from '../../../../src/lint/rules/mqtt-ack-on-arrival.js'
import {config, lintNodes, node, ruleTable} from './table.js'

const broker = config('mqtt-broker', {broker: 'localhost'})

ruleTable(mqttAckOnArrival, {
  valid: [
    {name: 'QoS 0 (never acknowledged)', nodes: [broker, node('mqtt in', {topic: 'a', qos: '0', broker: broker.id})]},
    {name: 'QoS 0 as a number', nodes: [broker, node('mqtt in', {topic: 'a', qos: 0, broker: broker.id})]},
    {name: 'ff-ha mqtt in with QoS 1 (acknowledges after the flow)', nodes: [broker, node('ff-ha mqtt in', {topic: 'a', qos: '1', broker: broker.id})]},
    {name: 'a disabled QoS 1 mqtt in', nodes: [broker, node('mqtt in', {topic: 'a', qos: '1', d: true, broker: broker.id})]},
    {name: 'mqtt out with QoS 1 (publishing)', nodes: [broker, node('mqtt out', {topic: 'a', qos: '1', broker: broker.id})]},
  ],
  invalid: [
    {name: 'QoS 1 in hot-spare: warning, fix named', nodes: [broker, node('mqtt in', {topic: 'a', qos: '1', broker: broker.id})], mode: 'hot-spare', severity: 'warning', says: /QoS 1 message on arrival.*new active.*ff-ha mqtt in.*--fix/},
    {name: 'QoS 1 in load-balanced: info', nodes: [broker, node('mqtt in', {topic: '$share/g/a', qos: '1', broker: broker.id})], mode: 'load-balanced', severity: 'info', says: /ff-ha mqtt in/},
    {name: 'QoS 2: also told to use QoS 1', nodes: [broker, node('mqtt in', {topic: 'a', qos: '2', broker: broker.id})], mode: 'hot-spare', says: /QoS 2 .*PUBREC.*set QoS 1/},
    {name: 'no qos (core subscribes with 2)', nodes: [broker, node('mqtt in', {topic: 'a', broker: broker.id})], mode: 'hot-spare', says: /QoS 2/},
    {name: 'an invalid qos (core subscribes with 2)', nodes: [broker, node('mqtt in', {topic: 'a', qos: '7', broker: broker.id})], mode: 'hot-spare', says: /QoS 2/},
    {name: 'a dynamic subscription: reported, with no drop-in', nodes: [broker, node('mqtt in', {topic: '', qos: '1', inputs: 1, broker: broker.id})], mode: 'hot-spare', says: /dynamically.*fixed topic/},
  ],
})

it('mqtt-ack-on-arrival: a static QoS 1/2 subscription carries the type fix, a dynamic one none', () => {
  const fixable = lintNodes(mqttAckOnArrival, [broker, node('mqtt in', {topic: 'a', qos: 1, broker: broker.id})], 'hot-spare')
  expect(fixable.map(f => f.fixable)).toEqual([true])
  const dynamic = lintNodes(mqttAckOnArrival, [broker, node('mqtt in', {topic: '', qos: 1, inputs: 1, broker: broker.id})], 'hot-spare')
  expect(dynamic).toHaveLength(1)
  expect(dynamic[0].fixable).toBeUndefined()
})
