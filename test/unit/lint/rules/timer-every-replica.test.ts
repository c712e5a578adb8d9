import {timerEveryReplica} from '../../../../src/lint/rules/timer-every-replica.js'
import {node, ruleTable} from './table.js'

ruleTable(timerEveryReplica, {
  valid: [
    {name: 'a manual inject', nodes: [node('inject', {repeat: '', crontab: '', once: false})]},
    {name: 'a repeating inject in hot-spare mode (only the active runs it)', nodes: [node('inject', {repeat: '10'})], mode: 'hot-spare'},
    {name: 'a repeat of "0"', nodes: [node('inject', {repeat: '0'})]},
  ],
  invalid: [
    {name: 'repeat every 10 s', nodes: [node('inject', {repeat: '10'})], severity: 'warning', says: /every 10 s.*once per replica/},
    {name: 'a crontab', nodes: [node('inject', {crontab: '00 12 * * *'})], says: /schedule \(00 12/},
    {name: 'once at start', nodes: [node('inject', {once: true})], says: /once at start/},
  ],
})
