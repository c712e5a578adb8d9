import {describe, expect, it} from 'vitest'
import {changeAccesses, contextReadModifyWrite, functionAccesses} from '../../../../src/lint/rules/context-read-modify-write.js'
import {node, ruleTable, wire} from './table.js'

const counter = node('function', {func: "let n = flow.get('count') || 0;\nflow.set('count', n + 1);\nreturn msg;"})
const nodeCtx = node('function', {func: 'const seen = context.get("seen") || [];\nseen.push(msg.payload);\ncontext.set("seen", seen);\nreturn msg;'})
const localCounter = node('function', {func: "global.set('ticks', global.get('ticks') + 1)"})
const changeRmw = node('change', {rules: [{t: 'set', p: 'total', pt: 'flow', to: '$flowContext("total") + payload', tot: 'jsonata'}]})

ruleTable(contextReadModifyWrite, {
  valid: [
    {name: 'a function that only reads context', nodes: [node('function', {func: "msg.payload = flow.get('config'); return msg;"})]},
    {name: 'a function that only writes context', nodes: [node('function', {func: "flow.set('last', msg.payload); return msg;"})]},
    {name: 'reading one key and writing another', nodes: [node('function', {func: "flow.set('b', flow.get('a'))"})]},
    {name: 'a change node setting flow from msg', nodes: [node('change', {rules: [{t: 'set', p: 'last', pt: 'flow', to: 'payload', tot: 'msg'}]})]},
    {name: 'a function with no code', nodes: [node('function', {func: 42})]},
  ],
  invalid: [
    {name: 'flow counter fed by http in: error', nodes: [wire(node('http in', {url: '/c'}), counter), counter], at: counter, severity: 'error', says: /flow\.count.*not atomic.*http in/},
    {name: 'node context list, no source: warning', nodes: [nodeCtx], severity: 'warning', says: /context\.seen/},
    {name: 'global counter fed by a local inject: info', nodes: [wire(node('inject', {repeat: '5'}), localCounter), localCounter], at: localCounter, severity: 'info', says: /inject/},
    {name: 'in hot-spare: lost at failover', nodes: [counter], mode: 'hot-spare', severity: 'warning', says: /failover/},
    {name: 'a change node using $flowContext of the key it sets', nodes: [changeRmw], severity: 'warning', says: /flow\.total/},
    {name: 'a change node of type change on a flow key', nodes: [node('change', {rules: [{t: 'change', p: 'x', pt: 'flow', from: 'a', to: 'b'}]})]},
  ],
})

describe('context access parsing', () => {
  it('reads keys with quotes, stores, dotted paths and context.flow/global forms', () => {
    const {reads, writes} = functionAccesses("const a = context.flow.get('a.b', 'file'); node.context().global.set(`a`, 1); flow.set(\"a\", 2); global.get(key); global.set(key, 3)")
    expect([...reads].sort()).toEqual(['flow:a', 'global:(key)'])
    expect([...writes].sort()).toEqual(['flow:a', 'global:(key)', 'global:a'])
  })
  it('strips the store prefix of change node keys', () => {
    const {reads, writes} = changeAccesses([{t: 'set', p: '#:(file)::n', pt: 'flow', to: '#:(file)::n', tot: 'flow'}, null, 'junk'])
    expect([...reads]).toEqual(['flow:n'])
    expect([...writes]).toEqual(['flow:n'])
  })
})
