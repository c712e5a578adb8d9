import type {FlowNode} from '../../admin/types.js'
import {arrayOf} from '../../flows/model.js'
import {describeNode, feedVerdict} from '../feeding.js'
import type {Rule, RuleContext, Severity} from '../types.js'
import {modeOf} from '../../modes/index.js'

// What state a node keeps, or undefined when this configuration keeps none. `sequence`: the state spans
// one msg.parts sequence only (a split on the same replica keeps it local).
function stateOf(node: FlowNode): {what: string; sequence: boolean} | undefined {
  switch (node.type) {
    case 'smooth':
      return {what: 'a running window of past values', sequence: false}
    case 'batch':
      return {what: 'the messages of the batch it is building', sequence: false}
    case 'join':
      if (node.mode === 'custom') return {what: 'the messages it is collecting (manual mode)', sequence: false}
      if (node.mode === 'reduce') return {what: 'the accumulated value of the sequence it reduces', sequence: true}
      return {what: 'the parts of the sequence it reassembles', sequence: true}
    case 'trigger':
      return {what: 'a timer and the last message per topic', sequence: false}
    case 'delay':
      if (node.pauseType === 'rate' || node.pauseType === 'queue' || node.pauseType === 'timed') {
        return {what: `a queue and a rate timer (${node.pauseType} mode)`, sequence: false}
      }
      return undefined
    case 'rbe':
      return {what: 'the last value per topic', sequence: false}
    case 'sort':
      return node.targetType === 'seq' ? {what: 'the parts of the sequence it sorts', sequence: true} : undefined
    case 'split':
      return node.stream === true ? {what: 'the unfinished remainder of the stream (streaming mode)', sequence: false} : undefined
    case 'csv':
      return node.hdrout === 'once' ? {what: 'whether it has sent the header yet (header once)', sequence: false} : undefined
    case 'switch': {
      const rules = arrayOf(node.rules) as Array<{t?: unknown; vt?: unknown; v2t?: unknown}>
      if (rules.some(r => r && (r.vt === 'prev' || r.v2t === 'prev'))) return {what: 'the previous value it compares against', sequence: false}
      if (node.repair === true || rules.some(r => r && (r.t === 'head' || r.t === 'tail' || r.t === 'index'))) {
        return {what: 'the parts of the sequence it routes (sequence rules or repair)', sequence: true}
      }
      return undefined
    }
  }
  return undefined
}

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const state = stateOf(node)
  if (!state) return
  const verdict = feedVerdict(ctx.feeding, index, state.sequence)
  const src = 'source' in verdict && verdict.source !== -1 ? describeNode(ctx.model, verdict.source) : 'its input'
  let severity: Severity
  let message: string
  if (verdict.kind === 'sequence') {
    severity = 'info'
    message = `Keeps ${state.what}, but is fed only by sequences that a split makes from one message on the same replica, so the state stays local to that replica.`
    if (modeOf(ctx.mode).singleActive) message += ' A failover mid-sequence loses at most the sequence in flight.'
  } else if (modeOf(ctx.mode).singleActive) {
    severity = 'warning'
    message = `Keeps ${state.what} in memory: a failover to the spare loses it and the spare starts empty. Accept that, or keep the state in a persistent shared context store.`
  } else if (verdict.kind === 'spread') {
    severity = 'error'
    message = `Keeps ${state.what}, and is fed by ${src}, which the load balancer spreads over the replicas: each replica sees only part of the stream, so its result is wrong. Route this stream to one replica, or use hot-spare mode.`
  } else if (verdict.kind === 'broadcast') {
    severity = 'warning'
    message = `Keeps ${state.what}, fed by ${src}, which every replica receives in full: each replica keeps its own copy and all of them emit. Sharing that subscription ($share) would split the state instead; keep this part on one replica (hot-spare) or accept duplicates.`
  } else if (verdict.kind === 'local') {
    severity = 'info'
    message = `Keeps ${state.what}, fed only by ${src} on the same replica: each replica keeps its own consistent state (and each one emits).`
  } else {
    severity = 'warning'
    message = `Keeps ${state.what} per replica; its input comes from ${verdict.kind === 'none' ? 'no wired source' : src}, so with several replicas each sees part or a copy of the stream. Make sure one replica handles it.`
  }
  ctx.report({index, message, severity})
}

export const implicitState: Rule = {
  meta: {
    id: 'implicit-state',
    summary: 'Nodes that keep state between messages (smooth, batch, join, trigger, delay rate/queue/timed, rbe, sort of a sequence, streaming split, csv header once, switch on previous value or sequences).',
    severity: {'load-balanced': 'error', 'hot-spare': 'warning'},
    docs:
      'These nodes remember past messages in the memory of the Node-RED process. Load-balanced: every replica keeps its own state and sees only the messages routed to it, so averages, batches, joins, rate limits and change detection give wrong results; this is an error when the node is fed by a source the load balancer spreads (http in, shared MQTT, tcp/websocket/udp listeners, Dashboard), a warning for other sources, and info when the node is fed only by a replica-local sequence (a split of one message) or a local inject. Hot-spare: the state is lost when the spare takes over. Fix: route the stream to one replica (hot-spare mode, or an unshared subscription on a single consumer), or keep the state in a shared store.',
  },
  types: ['smooth', 'batch', 'join', 'trigger', 'delay', 'rbe', 'sort', 'split', 'csv', 'switch'],
  check,
}
