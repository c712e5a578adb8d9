// The flows model: nodes indexed by id, tab and type; parents (tabs, subflows); what is disabled; the
// wires graph forward and reverse, with link nodes and subflow ports folded in. Built once per file.
// Input is untrusted: wires, z, links and subflow ports may have any type; ids may repeat or point nowhere;
// subflows may contain themselves. None of that may crash: such values are ignored.
import type {FlowNode} from '../admin/types.js'
import type {FlowsFile} from './parse.js'

export interface FlowsModel {
  file: FlowsFile
  nodes: FlowNode[]
  /** Node index by id (the first node with that id; later duplicates are listed in `duplicateIds`). */
  indexOf: Map<string, number>
  duplicateIds: string[]
  /** Node indexes by type (each list is made on first use). */
  byType: {get(type: string): number[] | undefined}
  /** Each node's type as an index into `types` (for loops that should not read the node objects). */
  typeOf: Int32Array
  /** The distinct types, in order of first appearance. */
  types: string[]
  /** Index of each node's parent tab or subflow definition, or -1 (global, or z points nowhere). */
  parent: Int32Array
  /** Successors by wire, link (link out -> link in, link call -> link in) or subflow port. */
  next: Adjacency
  /** The reverse of `next`. */
  prev: Adjacency
  /** Subflow instances (`subflow:<id>` nodes) by subflow definition id. */
  instances: Map<string, number[]>
  /** 1 where isDisabled, else 0. */
  disabled: Uint8Array
  /** 1 where isConfig, else 0. */
  config: Uint8Array
  isConfig(index: number): boolean
  /** The node itself, its tab or (for nodes in a subflow) every instance's place is disabled. */
  isDisabled(index: number): boolean
  /** Label of a tab (its `label`) or a subflow (its `name`). */
  labelOf(index: number): string
}

/**
 * Edges in compressed form (no array per node: 200,000 nodes would mean 400,000 small arrays):
 * the neighbours of i are list[start[i]] .. list[start[i + 1] - 1].
 */
export interface Adjacency {
  start: Int32Array
  list: Int32Array
  /** The neighbours of i (a view; for code that is not hot). */
  of(i: number): Int32Array
}

function adjacency(n: number, from: Int32Array, to: Int32Array): Adjacency {
  const start = new Int32Array(n + 1)
  for (let e = 0; e < from.length; e++) start[from[e] + 1]++
  for (let i = 0; i < n; i++) start[i + 1] += start[i]
  const fill = start.slice(0, n)
  const list = new Int32Array(from.length)
  for (let e = 0; e < from.length; e++) list[fill[from[e]]++] = to[e]
  return {start, list, of: i => list.subarray(start[i], start[i + 1])}
}

// What the model needs to know of a type, decided once per distinct type string (not per node).
const PLAIN = 0
const TAB = 1
const SUBFLOW = 2
const GROUP = 3
const INSTANCE = 4
const LINK_OUT = 5
const LINK_IN = 6
const LINK_CALL = 7

function kindOfType(type: string): number {
  switch (type) {
    case 'tab':
      return TAB
    case 'subflow':
      return SUBFLOW
    case 'group':
      return GROUP
    case 'link out':
      return LINK_OUT
    case 'link in':
      return LINK_IN
    case 'link call':
      return LINK_CALL
    default:
      return type.startsWith('subflow:') ? INSTANCE : PLAIN
  }
}

// Wires mostly go to a node a few places away in the file: with unique ids, the ids up to WINDOW places
// either side are compared first (memory close by), before the id index, whose lookups miss the cache.
const WINDOW = 8

export function buildModel(file: FlowsFile): FlowsModel {
  const nodes = file.nodes
  const n = nodes.length
  // The id index comes from parsing (it checked every id already); later copies of an id are listed here.
  const indexOf = file.firstIndexOf
  const duplicateIds: string[] = []
  const ids = file.ids
  if (file.duplicateIds) for (let i = 0; i < n; i++) if (indexOf.get(ids[i]) !== i) duplicateIds.push(ids[i])
  const find = (id: unknown): number => (typeof id === 'string' ? indexOf.get(id) ?? -1 : -1)
  const unique = !file.duplicateIds

  // One pass over the node objects, which reads each property it needs once: on a big file every read of
  // a node misses the cache, and nodes of many shapes make each property read a slow (megamorphic) one.
  // Types get small ids; what the model needs of a type is decided once per type.
  const typeIds = new Map<string, number>()
  const types: string[] = []
  const kinds: number[] = []
  /** For subflow instance types: the index of their subflow definition, or -1. */
  const defs: number[] = []
  const typeOf = new Int32Array(n)
  const parent = new Int32Array(n).fill(-1)
  const own = new Uint8Array(n) // 1: disabled by its own flag (d, or a tab's disabled)
  const config = new Uint8Array(n)
  // Edges as two growing typed arrays (from[e] -> to[e]).
  let froms = new Int32Array(Math.max(16, n))
  let tos = new Int32Array(froms.length)
  let edges = 0
  const edge = (from: number, to: number) => {
    if (from === -1 || to === -1 || from === to) return
    if (edges === froms.length) {
      const f = new Int32Array(edges * 2)
      const t = new Int32Array(edges * 2)
      f.set(froms)
      t.set(tos)
      froms = f
      tos = t
    }
    froms[edges] = from
    tos[edges++] = to
  }
  // Nodes of one tab come together in a flows file: remember the last z rather than look each one up.
  let lastZ: unknown
  let lastP = -1
  const nodeTypes = file.types
  for (let i = 0; i < n; i++) {
    const node = nodes[i]
    const type = nodeTypes[i]
    let t = typeIds.get(type)
    if (t === undefined) {
      t = types.length
      typeIds.set(type, t)
      types.push(type)
      const kind = kindOfType(type)
      kinds.push(kind)
      const def = kind === INSTANCE ? find(type.slice(8)) : -1
      defs.push(def !== -1 && nodeTypes[def] === 'subflow' ? def : -1)
    }
    typeOf[i] = t
    const kind = kinds[t]
    const z = node.z
    if (z !== lastZ) {
      lastZ = z
      lastP = find(z)
      if (lastP !== -1 && nodeTypes[lastP] !== 'tab' && nodeTypes[lastP] !== 'subflow') lastP = -1
    }
    if (lastP !== i) parent[i] = lastP
    if (node.d === true || (kind === TAB && node.disabled === true)) own[i] = 1
    if (kind !== TAB && kind !== SUBFLOW && kind !== GROUP && node.x === undefined && node.y === undefined) config[i] = 1
    // A subflow instance's outputs come from inside its definition (below), not straight from its input.
    if (kind !== INSTANCE || defs[t] === -1) {
      const wires = node.wires
      if (Array.isArray(wires)) {
        for (let p = 0; p < wires.length; p++) {
          const port = wires[p]
          if (!Array.isArray(port)) continue
          for (let w = 0; w < port.length; w++) {
            const id = port[w]
            let to = -1
            if (unique && typeof id === 'string') {
              // Nearest first: +1, -1, +2, -2, ... within WINDOW.
              for (let d = 1; d <= WINDOW; d++) {
                if (i + d < n && ids[i + d] === id) {
                  to = i + d
                  break
                }
                if (i >= d && ids[i - d] === id) {
                  to = i - d
                  break
                }
              }
            }
            if (to === -1) to = find(id)
            edge(i, to)
          }
        }
      }
    }
    if (kind === LINK_OUT || kind === LINK_CALL) {
      for (const id of arrayOf(node.links)) {
        const to = find(id)
        if (to !== -1 && nodeTypes[to] === 'link in') edge(i, to)
      }
    } else if (kind === LINK_IN) {
      // A link in lists its link outs too; an edit in one place only must still connect them.
      for (const id of arrayOf(node.links)) {
        const src = find(id)
        if (src !== -1 && nodeTypes[src] === 'link out' && !arrayOf(nodes[src].links).includes(ids[i])) edge(src, i)
      }
    }
  }

  // The nodes of one type, by one pass over typeOf (a typed array): cheaper than a list per type in the loop.
  const nodesOf = (t: number): number[] => {
    const list: number[] = []
    for (let i = 0; i < n; i++) if (typeOf[i] === t) list.push(i)
    return list
  }
  const lists = new Map<string, number[]>()
  const byType = {
    get(type: string): number[] | undefined {
      const t = typeIds.get(type)
      if (t === undefined) return undefined
      let list = lists.get(type)
      if (!list) lists.set(type, (list = nodesOf(t)))
      return list
    },
  }
  const instances = new Map<string, number[]>()
  const instancesOf = kinds.map(kind => (kind === INSTANCE ? ([] as number[]) : undefined))
  if (kinds.includes(INSTANCE)) for (let i = 0; i < n; i++) instancesOf[typeOf[i]]?.push(i)
  for (let t = 0; t < types.length; t++) if (kinds[t] === INSTANCE) instances.set(types[t].slice(8), instancesOf[t]!)

  // Subflow ports: an instance feeds the definition's input targets; the definition's output sources feed
  // what the instance's matching output is wired to. Instances share one definition, so this joins them.
  for (const [defId, list] of instances) {
    const def = find(defId)
    if (def === -1 || nodeTypes[def] !== 'subflow') continue
    const inPorts = arrayOf(nodes[def].in)
    const outPorts = arrayOf(nodes[def].out)
    for (const inst of list) {
      for (const port of inPorts) for (const w of arrayOf(objectOf(port).wires)) edge(inst, find(objectOf(w).id))
      const instWires = arrayOf(nodes[inst].wires)
      outPorts.forEach((port, p) => {
        for (const w of arrayOf(objectOf(port).wires)) {
          const src = find(objectOf(w).id)
          // A source wired to the port `port` of the definition itself means the subflow's input passes through.
          const from = src === def ? inst : src
          for (const id of arrayOf(instWires[p])) edge(from, find(id))
        }
      })
    }
  }

  const next = adjacency(n, froms.subarray(0, edges), tos.subarray(0, edges))
  const prev = adjacency(n, tos.subarray(0, edges), froms.subarray(0, edges))

  // Disabled, for every node at once: a node in a subflow is disabled when every instance is (or there is
  // none that runs). Most nodes sit in a tab or nowhere and are settled in one step; nodes in subflows (and
  // odd nestings) go through the memoised walk, which guards against cycles.
  const state = new Int8Array(n) // 0 unknown, 1 no, 2 yes, 3 computing (cycle guard)
  const walk = (i: number): boolean => {
    const s = state[i]
    if (s === 1 || s === 3) return false
    if (s === 2) return true
    state[i] = 3
    let off = own[i] === 1
    const p = parent[i]
    if (!off && p !== -1) {
      if (kinds[typeOf[p]] === TAB) off = walk(p)
      else {
        const insts = instances.get(nodes[p].id) ?? []
        off = insts.length > 0 && insts.every(walk)
      }
    }
    state[i] = off ? 2 : 1
    return off
  }
  const disabled = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    if (state[i] === 0) {
      const p = parent[i]
      if (own[i] === 1) state[i] = 2
      else if (p === -1) state[i] = 1
      else if (kinds[typeOf[p]] === TAB && parent[p] === -1) state[i] = own[p] === 1 ? 2 : 1
      else walk(i)
    }
    if (state[i] === 2) disabled[i] = 1
  }

  const labelOf = (i: number) => {
    const node = nodes[i]
    const label = node.type === 'tab' ? node.label : node.name
    return typeof label === 'string' && label !== '' ? label : node.id
  }

  return {
    file,
    nodes,
    indexOf,
    duplicateIds,
    byType,
    typeOf,
    types,
    parent,
    next,
    prev,
    instances,
    disabled,
    config,
    isConfig: i => config[i] === 1,
    isDisabled: i => disabled[i] === 1,
    labelOf,
  }
}

export function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

function objectOf(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {}
}
