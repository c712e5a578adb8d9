import {outboundConnection} from '../../../../src/lint/rules/outbound-connection.js'
import {config, node, ruleTable} from './table.js'

ruleTable(outboundConnection, {
  valid: [
    {name: 'a tcp in server (a listener, another rule)', nodes: [node('tcp in', {server: 'server', port: '1'})]},
    {name: 'tcp out replying to a tcp in (reply mode)', nodes: [node('tcp out', {beserver: 'reply'})]},
    {name: 'a tcp request in hot-spare (only the active connects)', nodes: [node('tcp request', {server: 'plc', port: '502'})], mode: 'hot-spare'},
  ],
  invalid: [
    {name: 'tcp in as a client', nodes: [node('tcp in', {server: 'client', host: 'plc', port: '502'})], severity: 'warning', says: /plc:502/},
    {name: 'tcp out as a client', nodes: [node('tcp out', {beserver: 'client', host: 'h', port: '9'})]},
    {name: 'tcp request', nodes: [node('tcp request', {server: 'plc', port: '502'})]},
    {name: 'a websocket client', nodes: [config('websocket-client', {path: 'ws://x/y'})], says: /ws:\/\/x\/y/},
    {name: 'a serial port: error', nodes: [config('serial-port', {serialport: '/dev/ttyUSB0'})], severity: 'error', says: /ttyUSB0/},
  ],
})
