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
    {name: 'once per file, on the ui_base', nodes: [base, gauge, node('ui_button')], at: base, severity: 'warning', says: /sticky sessions/i},
    {
      name: 'Dashboard 2 in load-balanced: each replica shows what it processed',
      nodes: [config('ui-base'), node('ui-gauge'), node('ui-chart')],
      severity: 'warning',
      says: /widgets show what that replica processed.*keep one browser on one replica/,
    },
    {name: 'with a profile that keeps sticky sessions: still a warning', nodes: [config('ui-base'), node('ui-text')], severity: 'warning', profile: {sticky: true, sharedContextStores: new Set()}},
    {
      name: 'load-balanced with http.sticky: false in the profile: an error',
      nodes: [config('ui-base'), node('ui-button')],
      severity: 'error',
      says: /http\.sticky: false.*Set http\.sticky: true/,
      profile: {sticky: false, sharedContextStores: new Set()},
    },
    {name: 'hot-spare with http.sticky: false: still info (one replica serves)', nodes: [config('ui-base'), node('ui-button')], mode: 'hot-spare', severity: 'info', says: /reconnects to the new active/, profile: {sticky: false, sharedContextStores: new Set()}},
    {name: 'without a base, on the first widget', nodes: [gauge, node('ui_chart')], at: gauge},
    {name: 'Dashboard 2 nodes', nodes: [config('ui-base'), node('ui-button')]},
    {name: 'in hot-spare: info', nodes: [gauge], mode: 'hot-spare', severity: 'info', says: /failover/},
  ],
})
