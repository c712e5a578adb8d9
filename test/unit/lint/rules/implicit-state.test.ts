import {implicitState} from '../../../../src/lint/rules/implicit-state.js'
import {config, node, ruleTable, wire} from './table.js'

const httpFed = (stateful: ReturnType<typeof node>) => [wire(node('http in', {url: '/x', method: 'post'}), stateful), stateful]
const injectFed = (stateful: ReturnType<typeof node>) => [wire(node('inject', {repeat: ''}), stateful), stateful]

const smooth = node('smooth', {action: 'mean', count: '10'})
const joinAfterSplit = node('join', {mode: 'auto'})
const split = node('split', {stream: false})
const reduceAfterSplit = node('join', {mode: 'reduce'})
const split2 = node('split')
const rbeLocal = node('rbe', {func: 'rbe'})
const batch = node('batch', {mode: 'count', count: 5})
const broker = config('mqtt-broker', {broker: 'localhost'})
const mqttJoin = node('join', {mode: 'custom', count: '10'})
const sharedTrigger = node('trigger', {duration: '5'})
const ffhaJoin = node('join', {mode: 'custom', count: '10'})
const ffhaSharedTrigger = node('trigger', {duration: '5'})
const delayRate = node('delay', {pauseType: 'rate', rate: '1'})
const delayQueue = node('delay', {pauseType: 'queue'})
const delayTimed = node('delay', {pauseType: 'timed'})
const sortSeq = node('sort', {targetType: 'seq'})
const streamSplit = node('split', {stream: true})
const csvOnce = node('csv', {hdrout: 'once'})
const switchPrev = node('switch', {rules: [{t: 'gt', v: '', vt: 'prev'}]})
const switchRepair = node('switch', {repair: true, rules: [{t: 'else'}]})
const joinInSubflow = node('rbe', {z: 'sf'})
const subflow = {id: 'sf', type: 'subflow', name: 'dedupe', in: [{wires: [{id: joinInSubflow.id}]}], out: []}
const instance = node('subflow:sf', {name: 'dedupe A'})
const viaLink = node('rbe')
const linkIn = wire(node('link in', {links: []}), viaLink)
const linkOut = node('link out', {links: [linkIn.id]})
const wsListener = config('websocket-listener', {path: '/ws'})
const wsFed = node('smooth')

ruleTable(implicitState, {
  valid: [
    {name: 'a sort of an array in one message', nodes: httpFed(node('sort', {targetType: 'msg', target: 'payload'}))},
    {name: 'a plain delay (no rate, queue or timed mode)', nodes: httpFed(node('delay', {pauseType: 'delay', timeout: '5'}))},
    {name: 'a split that does not stream', nodes: httpFed(node('split', {stream: false}))},
    {name: 'a csv that sends headers on every message', nodes: httpFed(node('csv', {hdrout: 'all'}))},
    {name: 'a switch without previous-value or sequence rules', nodes: httpFed(node('switch', {rules: [{t: 'eq', v: 'a', vt: 'str'}]}))},
    {name: 'a disabled smooth', nodes: httpFed(node('smooth', {d: true}))},
    {name: 'an rbe on a disabled tab', nodes: [{id: 'off', type: 'tab', disabled: true}, node('rbe', {z: 'off'})]},
  ],
  invalid: [
    {name: 'smooth fed by http in (spread): error', nodes: httpFed(smooth), at: smooth, severity: 'error', says: /http in "\/x".*spreads/},
    {name: 'the same smooth in hot-spare: lost at failover', nodes: httpFed(smooth), mode: 'hot-spare', severity: 'warning', says: /failover/},
    {name: 'join auto after a split of the same message: info, replica-local', nodes: [...httpFed(wire(split, joinAfterSplit)), joinAfterSplit], at: joinAfterSplit, severity: 'info', says: /split .* same replica/},
    {name: 'join reduce after a split: info', nodes: [...injectFed(wire(split2, reduceAfterSplit)), reduceAfterSplit], at: reduceAfterSplit, severity: 'info'},
    {name: 'rbe fed only by a local inject: info, says why', nodes: injectFed(rbeLocal), severity: 'info', says: /fed only by inject/},
    {name: 'batch with no source wired: warning', nodes: [batch], severity: 'warning'},
    {name: 'join (manual) fed by an unshared mqtt in: warning, every replica gets a copy', nodes: [broker, wire(node('mqtt in', {topic: 'a/b', broker: broker.id}), mqttJoin), mqttJoin], at: mqttJoin, severity: 'warning', says: /every replica receives/},
    {name: 'join (manual) fed by an unshared ff-ha mqtt in: the same as mqtt in', nodes: [broker, wire(node('ff-ha mqtt in', {topic: 'a/b', broker: broker.id}), ffhaJoin), ffhaJoin], at: ffhaJoin, severity: 'warning', says: /fed by ff-ha mqtt in "a\/b".*every replica receives/},
    {name: 'trigger fed by a $share ff-ha mqtt in: error, as for mqtt in', nodes: [broker, wire(node('ff-ha mqtt in', {topic: '$share/g/a', broker: broker.id}), ffhaSharedTrigger), ffhaSharedTrigger], at: ffhaSharedTrigger, severity: 'error'},
    {name: 'trigger fed by a $share mqtt in: error', nodes: [broker, wire(node('mqtt in', {topic: '$share/g/a', broker: broker.id}), sharedTrigger), sharedTrigger], at: sharedTrigger, severity: 'error'},
    {name: 'delay in rate mode', nodes: httpFed(delayRate), severity: 'error', says: /rate mode/},
    {name: 'delay in queue mode', nodes: httpFed(delayQueue), severity: 'error'},
    {name: 'delay in timed mode', nodes: httpFed(delayTimed), severity: 'error'},
    {name: 'sort of a sequence not made by a split here', nodes: httpFed(sortSeq), severity: 'error'},
    {name: 'split in streaming mode', nodes: httpFed(streamSplit), severity: 'error', says: /stream/},
    {name: 'csv sending its header once', nodes: httpFed(csvOnce), severity: 'error', says: /header/},
    {name: 'switch comparing with the previous value', nodes: httpFed(switchPrev), severity: 'error', says: /previous value/},
    {name: 'switch with sequence repair', nodes: httpFed(switchRepair), severity: 'error'},
    {name: 'rbe fed through link out -> link in from http in', nodes: [wire(node('http in', {url: '/l'}), linkOut), linkOut, linkIn, viaLink], at: viaLink, severity: 'error', says: /http in/},
    {name: 'smooth fed by a websocket listener', nodes: [wsListener, wire(node('websocket in', {server: wsListener.id}), wsFed), wsFed], severity: 'error', says: /websocket in/},
    {
      name: 'an rbe inside a subflow is reported on the definition and names the instance',
      nodes: [subflow as never, joinInSubflow, wire(node('http in', {url: '/s'}), instance), instance],
      at: joinInSubflow,
      severity: 'error',
      says: /subflow "dedupe".*dedupe A \(Flow 1\)/,
    },
  ],
})
