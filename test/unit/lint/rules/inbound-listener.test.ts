import {inboundListener} from '../../../../src/lint/rules/inbound-listener.js'
import {config, node, ruleTable} from './table.js'

ruleTable(inboundListener, {
  valid: [
    {name: 'tcp in as a client', nodes: [node('tcp in', {server: 'client', host: 'plc', port: '502'})]},
    {name: 'an http in (the load balancer routes HTTP already)', nodes: [node('http in', {url: '/x'})]},
  ],
  invalid: [
    {name: 'tcp in server', nodes: [node('tcp in', {server: 'server', port: '7000'})], severity: 'warning', says: /TCP port 7000/},
    {name: 'udp in', nodes: [node('udp in', {port: '5000'})], says: /UDP port 5000/},
    {name: 'a websocket listener', nodes: [config('websocket-listener', {path: '/ws/data'})], says: /\/ws\/data/},
    {name: 'tcp in server in hot-spare: info', nodes: [node('tcp in', {server: 'server', port: '7000'})], mode: 'hot-spare', severity: 'info', says: /active replica/},
  ],
})
