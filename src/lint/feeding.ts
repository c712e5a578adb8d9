// Where a node's messages come from, so that a stateful node is judged by what feeds it:
// a source the load balancer spreads over replicas (http in, shared MQTT, tcp/websocket/udp listeners,
// Dashboard inputs) splits the node's state, an unshared MQTT subscription hands every replica a full copy,
// an inject keeps the stream on its own replica, and a `split` makes a sequence that stays on the replica
// of the message it came from. One forward propagation of bit masks over the wires graph: O(edges).
import type {FlowNode} from '../admin/types.js'
import type {Adjacency, FlowsModel} from '../flows/model.js'

export const SPREAD = 1
export const BROADCAST = 2
export const LOCAL = 4
export const OTHER = 8
const ORIGINS = SPREAD | BROADCAST | LOCAL | OTHER
/** Arrives as parts of a sequence that a split on this replica made from one message. */
export const SEQ = 16
/** Arrives (on some path) not as such a sequence. */
export const NOSEQ = 32
const ORIGIN_BITS = [SPREAD, BROADCAST, LOCAL, OTHER] as const

export interface Feeding {
  /** Bit mask of SPREAD | BROADCAST | LOCAL | OTHER | SEQ | NOSEQ for each node's input. */
  mask: Uint8Array
  /** A source node that gives `index` the origin `bit`, or -1. */
  originOf(index: number, bit: number): number
}

/** Node types that subscribe like core `mqtt in`: ff-ha's drop-in (nodes/ff-ha-mqtt-in.js) has the same
 * properties and only acknowledges later, so every rule treats it the same. */
export const MQTT_IN_TYPES: readonly string[] = ['mqtt in', 'ff-ha mqtt in']

export function isMqttIn(type: string): boolean {
  return type === 'mqtt in' || type === 'ff-ha mqtt in'
}

export function isSharedTopic(topic: unknown): boolean {
  return typeof topic === 'string' && (topic.startsWith('$share/') || topic.startsWith('$queue/'))
}

/** What kind of source a node is on its own, or 0 when it only passes messages on. */
export function sourceKind(node: FlowNode, model: FlowsModel): number {
  switch (node.type) {
    case 'http in':
    case 'udp in':
      return SPREAD
    case 'mqtt in':
    case 'ff-ha mqtt in':
      return isSharedTopic(node.topic) ? SPREAD : BROADCAST
    case 'tcp in':
      return node.server === 'client' ? BROADCAST : SPREAD
    case 'websocket in': {
      const server = model.indexOf.get(String(node.server ?? ''))
      if (server !== undefined && model.nodes[server].type === 'websocket-listener') return SPREAD
      return node.client ? BROADCAST : SPREAD
    }
    case 'inject':
      return LOCAL
    default:
      // Dashboard widgets are fed by users, and users are spread over replicas (sticky per session).
      if (node.type.startsWith('ui_') || node.type.startsWith('ui-')) return SPREAD
      return 0
  }
}

/** Nodes after which the sequence made by a split is complete again (the message is whole). */
function endsSequence(node: FlowNode): boolean {
  return node.type === 'join' && (node.mode === 'auto' || node.mode === 'reduce' || node.mode === undefined)
}

export function computeFeeding(model: FlowsModel, includeDisabled: boolean): Feeding {
  const {nodes, next, prev, typeOf, disabled, config} = model
  const n = nodes.length
  const mask = new Uint8Array(n)
  const origin = ORIGIN_BITS.map(() => new Int32Array(n).fill(-1))
  // What the propagation needs of each node, read once in file order into typed arrays: the queue visits
  // nodes in wire order, and reading the node objects there costs a cache miss per visit. What a type can
  // be is decided once per type; only joins and possible sources are read per node.
  const roles = model.types.map(roleOfType)
  const on = new Uint8Array(n) // 1: runs (or disabled nodes are included)
  for (let i = 0; i < n; i++) on[i] = includeDisabled || disabled[i] === 0 ? 1 : 0
  const op = new Uint8Array(n) // SPLIT or ENDS, else 0
  const queue: number[] = []
  for (let i = 0; i < n; i++) {
    const role = roles[typeOf[i]]
    if (role === SPLIT) op[i] = SPLIT
    else if (role === JOIN && endsSequence(nodes[i])) op[i] = ENDS
    if (on[i] === 0 || config[i] === 1 || role === STRUCTURE) continue
    let kind = role === SOURCE ? sourceKind(nodes[i], model) : 0
    // Anything else with nothing wired in starts messages of its own (status, catch, a poller, a reader).
    if (kind === 0 && !hasActive(prev, i, on)) kind = OTHER
    if (kind === 0) continue
    mask[i] = kind | NOSEQ
    origin[ORIGIN_BITS.indexOf(kind as (typeof ORIGIN_BITS)[number])][i] = i
    queue.push(i)
  }
  const {start, list} = next
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]
    const m = mask[i]
    const out = op[i] === SPLIT ? (m & ORIGINS) | SEQ : op[i] === ENDS ? (m & ORIGINS) | NOSEQ : m
    for (let e = start[i]; e < start[i + 1]; e++) {
      const j = list[e]
      if (on[j] === 0) continue
      const before = mask[j]
      const after = before | out
      if (after === before) continue
      mask[j] = after
      for (let b = 0; b < ORIGIN_BITS.length; b++) {
        if (after & ~before & ORIGIN_BITS[b]) origin[b][j] = origin[b][i]
      }
      queue.push(j)
    }
  }
  return {mask, originOf: (index, bit) => origin[ORIGIN_BITS.indexOf(bit as (typeof ORIGIN_BITS)[number])]?.[index] ?? -1}
}

const SPLIT = 1
const ENDS = 2
const JOIN = 3
const STRUCTURE = 4
/** A type that sourceKind may call a source. */
const SOURCE = 5

function roleOfType(type: string): number {
  switch (type) {
    case 'split':
      return SPLIT
    case 'join':
      return JOIN
    case 'tab':
    case 'subflow':
    case 'group':
      return STRUCTURE
    case 'http in':
    case 'udp in':
    case 'mqtt in':
    case 'ff-ha mqtt in':
    case 'tcp in':
    case 'websocket in':
    case 'inject':
      return SOURCE
    default:
      return type.startsWith('ui_') || type.startsWith('ui-') ? SOURCE : 0
  }
}

function hasActive(adj: Adjacency, i: number, on: Uint8Array): boolean {
  for (let e = adj.start[i]; e < adj.start[i + 1]; e++) if (on[adj.list[e]] === 1) return true
  return false
}

/** `http in "GET /api" (line 12)`: how messages name a node. */
export function describeNode(model: FlowsModel, index: number): string {
  const node = model.nodes[index]
  const name = typeof node.name === 'string' && node.name ? node.name : node.type === 'http in' && typeof node.url === 'string' ? node.url : isMqttIn(node.type) && typeof node.topic === 'string' ? node.topic : ''
  const line = model.file.positionOf(index).line
  return `${node.type}${name ? ` "${name}"` : ''} (line ${line})`
}

export type FeedVerdict =
  | {kind: 'spread'; source: number}
  | {kind: 'broadcast'; source: number}
  | {kind: 'other'; source: number}
  | {kind: 'local'; source: number}
  | {kind: 'sequence'}
  | {kind: 'none'}

/**
 * How a stateful node is fed. `sequenceOnly`: the node's state spans one msg.parts sequence (join auto,
 * sort of a sequence), so a sequence made by a split on the same replica keeps it replica-local.
 */
export function feedVerdict(feeding: Feeding, index: number, sequenceOnly: boolean): FeedVerdict {
  const m = feeding.mask[index]
  if (m === 0) return {kind: 'none'}
  if (sequenceOnly && m & SEQ && !(m & NOSEQ)) return {kind: 'sequence'}
  if (m & SPREAD) return {kind: 'spread', source: feeding.originOf(index, SPREAD)}
  if (m & BROADCAST) return {kind: 'broadcast', source: feeding.originOf(index, BROADCAST)}
  if (m & OTHER) return {kind: 'other', source: feeding.originOf(index, OTHER)}
  return {kind: 'local', source: feeding.originOf(index, LOCAL)}
}
