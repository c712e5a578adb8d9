import {mqttFixedClientId} from '../../../../src/lint/rules/mqtt-fixed-client-id.js'
import {config, node, ruleTable} from './table.js'

const fixed = config('mqtt-broker', {broker: 'localhost', clientid: 'plant-1'})
const fromEnv = config('mqtt-broker', {broker: 'localhost', clientid: 'plant-${HOSTNAME}'})
const empty = config('mqtt-broker', {broker: 'localhost', clientid: ''})
const fixedToo = config('mqtt-broker', {broker: 'localhost', clientid: 'plant-3'})
const unused = config('mqtt-broker', {broker: 'localhost', clientid: 'plant-2'})

ruleTable(mqttFixedClientId, {
  valid: [
    {name: 'an empty (generated) client id', nodes: [empty, node('mqtt in', {topic: '$share/g/a', broker: empty.id})]},
    {name: 'a client id made unique by an env variable', nodes: [fromEnv, node('mqtt out', {broker: fromEnv.id})]},
    {name: 'a fixed id on a broker no node uses', nodes: [unused]},
    {name: 'a fixed id used only by a disabled node', nodes: [fixed, node('mqtt out', {broker: fixed.id, d: true})]},
    {name: 'a fixed id in hot-spare (the recommended fence)', nodes: [fixed, node('mqtt out', {broker: fixed.id})], mode: 'hot-spare'},
  ],
  invalid: [
    {name: 'a fixed id used by mqtt out', nodes: [fixed, node('mqtt out', {broker: fixed.id})], at: fixed, severity: 'error', says: /"plant-1".*knock each other off/},
    {name: 'a fixed id used only by an ff-ha mqtt in', nodes: [fixedToo, node('ff-ha mqtt in', {topic: '$share/g/a', broker: fixedToo.id})], at: fixedToo, severity: 'error', says: /"plant-3"/},
  ],
})
