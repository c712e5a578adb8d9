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
  /** Node indexes by type. */
  byType: Map<string, number[]>
  /** Index of each node's parent tab or subflow definition, or -1 (global, or z points nowhere). */
  parent: Int32Array
  /** Successors by wire, link (link out -> link in, link call -> link in) or subflow port. */
  next: Adjacency
  /** The reverse of `next`. */
  prev: Adjacency
  /** Subflow instances (`subflow:<id>` nodes) by subflow definition id. */
  instances: Map<string, number[]>
  isConfig(index: number): boolean
  /** The node itself, its tab or (for nodes in a subflow) every instance's place is disabled. */
  isDisabled(index: number): boolean
  /** Label of a tab (its `label`) or a subflow (its `name`). */
  labelOf(index: number): string
}

const STRUCTURAL = new Set(['tab', 'subflow', 'group'])

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

function adjacency(n: number, from: number[], to: number[]): Adjacency {
  const start = new Int32Array(n + 1)
  for (let e = 0; e < from.length; e++) start[from[e] + 1]++
  for (let i = 0; i < n; i++) start[i + 1] += start[i]
  const fill = start.slice(0, n)
  const list = new Int32Array(from.length)
  for (let e = 0; e < from.length; e++) list[fill[from[e]]++] = to[e]
  return {start, list, of: i => list.subarray(start[i], start[i + 1])}
}

export function buildModel(file: FlowsFile): FlowsModel {
  const nodes = file.nodes
  const n = nodes.length
  // The id index comes from parsing (it checked every id already); later copies of an id are listed here.
  const indexOf = file.firstIndexOf
  const duplicateIds: string[] = []
  if (file.duplicateIds) for (let i = 0; i < n; i++) if (indexOf.get(nodes[i].id) !== i) duplicateIds.push(nodes[i].id)
  const byType = new Map<string, number[]>()
  for (let i = 0; i < n; i++) {
    const node = nodes[i]
    let list = byType.get(node.type)
    if (!list) byType.set(node.type, (list = []))
    list.push(i)
  }
  const find = (id: unknown): number => (typeof id === 'string' ? indexOf.get(id) ?? -1 : -1)
  // Wires mostly go to a node a few places away in the file: with unique ids, comparing those ids first
  // (memory close by) skips half of the hash lookups, which miss the cache on big files.
  const unique = !file.duplicateIds
  const findNear = (i: number, id: unknown): number => {
    if (unique && typeof id === 'string') {
      if (i + 1 < n && nodes[i + 1].id === id) return i + 1
      if (i > 0 && nodes[i - 1].id === id) return i - 1
      if (i + 2 < n && nodes[i + 2].id === id) return i + 2
    }
    return find(id)
  }

  const parent = new Int32Array(n).fill(-1)
  // Nodes of one tab come together in a flows file: remember the last z rather than look each one up.
  let lastZ: unknown
  let lastP = -1
  for (let i = 0; i < n; i++) {
    const z = nodes[i].z
    if (z !== lastZ) {
      lastZ = z
      lastP = find(z)
      if (lastP !== -1 && nodes[lastP].type !== 'tab' && nodes[lastP].type !== 'subflow') lastP = -1
    }
    if (lastP !== i) parent[i] = lastP
  }

  const instances = new Map<string, number[]>()
  for (let i = 0; i < n; i++) {
    const type = nodes[i].type
    if (type.startsWith('subflow:')) {
      const id = type.slice(8)
      let list = instances.get(id)
      if (!list) instances.set(id, (list = []))
      list.push(i)
    }
  }

  const froms: number[] = []
  const tos: number[] = []
  const edge = (from: number, to: number) => {
    if (from === -1 || to === -1 || from === to) return
    froms.push(from)
    tos.push(to)
  }
  for (let i = 0; i < n; i++) {
    const node = nodes[i]
    // A subflow instance's outputs come from inside its definition (below), not straight from its input.
    const def = node.type.startsWith('subflow:') ? find(node.type.slice(8)) : -1
    if (def === -1 || nodes[def].type !== 'subflow') {
      for (const port of arrayOf(node.wires)) for (const id of arrayOf(port)) edge(i, findNear(i, id))
    }
    if (node.type === 'link out' || node.type === 'link call') {
      for (const id of arrayOf(node.links)) {
        const t = find(id)
        if (t !== -1 && nodes[t].type === 'link in') edge(i, t)
      }
    } else if (node.type === 'link in') {
      // A link in lists its link outs too; an edit in one place only must still connect them.
      for (const id of arrayOf(node.links)) {
        const src = find(id)
        if (src !== -1 && nodes[src].type === 'link out' && !arrayOf(nodes[src].links).includes(node.id)) edge(src, i)
      }
    }
  }
  // Subflow ports: an instance feeds the definition's input targets; the definition's output sources feed
  // what the instance's matching output is wired to. Instances share one definition, so this joins them.
  for (const [defId, list] of instances) {
    const def = find(defId)
    if (def === -1 || nodes[def].type !== 'subflow') continue
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

  const next = adjacency(n, froms, tos)
  const prev = adjacency(n, tos, froms)

  const isConfig = (i: number) => {
    const node = nodes[i]
    return !STRUCTURAL.has(node.type) && node.x === undefined && node.y === undefined
  }

  // Disabled, memoised: a node in a subflow is disabled when every instance is (or there is none that runs).
  const disabled = new Int8Array(n) // 0 unknown, 1 no, 2 yes, 3 computing (cycle guard)
  const isDisabled = (i: number): boolean => {
    const state = disabled[i]
    if (state === 1 || state === 3) return false
    if (state === 2) return true
    disabled[i] = 3
    const node = nodes[i]
    let off = node.d === true || (node.type === 'tab' && node.disabled === true)
    const p = parent[i]
    if (!off && p !== -1) {
      if (nodes[p].type === 'tab') off = isDisabled(p)
      else {
        const insts = instances.get(nodes[p].id) ?? []
        off = insts.length > 0 && insts.every(isDisabled)
      }
    }
    disabled[i] = off ? 2 : 1
    return off
  }

  const labelOf = (i: number) => {
    const node = nodes[i]
    const label = node.type === 'tab' ? node.label : node.name
    return typeof label === 'string' && label !== '' ? label : node.id
  }

  return {file, nodes, indexOf, duplicateIds, byType, parent, next, prev, instances, isConfig, isDisabled, labelOf}
}

export function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

function objectOf(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {}
}
