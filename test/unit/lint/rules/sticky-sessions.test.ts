import {stickySessions} from '../../../../src/lint/rules/sticky-sessions.js'
import {config, node, ruleTable} from './table.js'

const base = config('ui_base', {theme: {}})
const gauge = node('ui_gauge')

ruleTable(stickySessions, {
  valid: [
    {name: 'no Dashboard nodes', nodes: [node('http in', {url: '/'})]},
    {name: 'only disabled Dashboard widgets', nodes: [node('ui_text', {d: true})]},
  ],
  invalid: [
    {name: 'once per file, on the ui_base', nodes: [base, gauge, node('ui_button')], at: base, severity: 'warning', says: /sticky sessions/},
    {name: 'without a base, on the first widget', nodes: [gauge, node('ui_chart')], at: gauge},
    {name: 'Dashboard 2 nodes', nodes: [config('ui-base'), node('ui-button')]},
    {name: 'in hot-spare: info', nodes: [gauge], mode: 'hot-spare', severity: 'info', says: /failover/},
  ],
})
