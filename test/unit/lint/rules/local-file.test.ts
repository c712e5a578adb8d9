import {localFile} from '../../../../src/lint/rules/local-file.js'
import {node, ruleTable} from './table.js'

ruleTable(localFile, {
  valid: [{name: 'no file nodes', nodes: [node('debug')]}, {name: 'a disabled file node', nodes: [node('file', {filename: '/x', d: true})]}],
  invalid: [
    {name: 'file (write)', nodes: [node('file', {filename: '/data/log.txt'})], severity: 'warning', says: /Writes the local file "\/data\/log.txt"/},
    {name: 'file in with the name from msg', nodes: [node('file in', {filename: 'payload', filenameType: 'msg'})], says: /named by msg\.payload/},
    {name: 'watch', nodes: [node('watch', {files: '/etc/x'})], says: /Watches/},
    {name: 'tail, in hot-spare', nodes: [node('tail', {filename: '/var/log/syslog'})], mode: 'hot-spare', says: /spare/},
  ],
})
