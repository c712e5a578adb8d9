// Read a Node-RED flows file into typed values once, with errors that point at the place.
// JSON.parse gives the values; one extra scan (scan.ts) gives each node's position in the text.
import type {FlowNode} from '../admin/types.js'
import {InputError} from '../errors.js'
import {locateJsonError} from './json-error.js'
import {LineIndex, type Position} from './lines.js'
import {printable} from './printable.js'
import {readFlowsInput, type ReadOptions} from './read.js'
import {NodeLocator, PrettyLayout} from './scan.js'

export type {Position} from './lines.js'

export interface FlowsFile {
  /** As given by the user ('-' for stdin, or the label the caller chose). */
  path: string
  /** A top-level array (flows.json, editor exports), or the admin API v2 object {flows, rev}. */
  format: 'array' | 'v2'
  rev?: string
  nodes: FlowNode[]
  /** Line and column (1-based) of the `{` that opens nodes[index] in the text. */
  positionOf(index: number): Position
  /** Line and column of any offset in the text. */
  positionAt(offset: number): Position
  /** Offset of the `{` that opens nodes[index] in text. */
  offsetOf(index: number): number
  /** The indentation unit of the file: '    ', '  ', '\t', or '' when minified. */
  indent: string
  /** Whether the text ends with a line break (so that a rewrite keeps it). */
  finalNewline: boolean
  /** Line break style, for rewrites. */
  eol: '\n' | '\r\n'
  /** The text as read (without a BOM). */
  text: string
  /** Index of the first node with each id (the shape check builds it anyway; the model reuses it). */
  firstIndexOf: Map<string, number>
  /** nodes[i].id and nodes[i].type, as the shape check read them (so that loops need not read the nodes). */
  ids: string[]
  types: string[]
  /** Whether some id repeats. */
  duplicateIds: boolean
}

const HINT = 'a flows file is a JSON array of nodes (flows.json, an editor export) or {"flows": [...], "rev": "..."}'

/** Read and parse a flows file (`-`: stdin), refusing inputs over the size cap before reading them whole. */
export function readFlowsFile(path: string, options: ReadOptions = {}): FlowsFile {
  return parseFlowsText(readFlowsInput(path, options), path)
}

export function parseFlowsText(text: string, path: string): FlowsFile {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  const lines = new LineIndex(text)
  const at = (offset: number) => {
    const p = lines.positionAt(offset)
    return `${printable(path)}:${p.line}:${p.column}`
  }
  // Not text.trim(): that copies a 150 MB string to find out it is not empty.
  if (!/\S/.test(text.slice(0, 4096)) && !/\S/.test(text)) throw new InputError(`${printable(path)}:1:1 the file is empty, not a flows file`, HINT)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    const problem = locateJsonError(text, err as Error)
    throw new InputError(`${at(problem.offset)} not JSON: ${problem.what}`, 'fix the JSON syntax (was the file cut short or edited by hand?)')
  }
  const start = firstNonSpace(text)
  let format: 'array' | 'v2'
  let nodes: unknown[]
  let rev: string | undefined
  if (Array.isArray(value)) {
    format = 'array'
    nodes = value
  } else if (value !== null && typeof value === 'object') {
    const flows = (value as {flows?: unknown}).flows
    if (!Array.isArray(flows)) {
      const why = flows === undefined ? 'the top-level object has no "flows" array' : `"flows" is ${kindOf(flows)}, not an array`
      throw new InputError(`${at(start)} not a flows file: ${why}`, HINT)
    }
    format = 'v2'
    nodes = flows
    const r = (value as {rev?: unknown}).rev
    if (typeof r === 'string') rev = r
  } else {
    throw new InputError(`${at(start)} not a flows file: the top-level value is ${kindOf(value)}`, HINT)
  }
  // Node positions are found on first use (parse-only callers never pay for them): by id for files that
  // Node-RED wrote, else by walking the text (NodeLocator). Until the nodes are checked, only the walk.
  let locator: NodeLocator | undefined
  const offsetOf = (index: number): number => (locator ??= new NodeLocator(text, start, format, nodes as FlowNode[], idsAreUsable)).offsetOf(index)
  let idsAreUsable = false
  const firstIndexOf = new Map<string, number>()
  const ids: string[] = []
  const types: string[] = []
  let unique = true
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as {id?: unknown; type?: unknown} | null
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new InputError(`${at(offsetOf(i))} not a flows file: node ${i} is ${kindOf(node)}, not an object`, HINT)
    }
    const id = node.id
    const type = node.type
    if (typeof id !== 'string' || id === '') {
      const why = id === undefined ? 'has no id' : `has an id that is ${kindOf(id)}, not a string`
      throw new InputError(`${at(offsetOf(i))} not a flows file: node ${i} ${why}`, HINT)
    }
    if (typeof type !== 'string' || type === '') {
      const why = type === undefined ? 'has no type' : `has a type that is ${kindOf(type)}, not a string`
      throw new InputError(`${at(offsetOf(i))} not a flows file: node ${i} (id ${printable(id)}) ${why}`, HINT)
    }
    ids.push(id)
    types.push(type)
    if (!firstIndexOf.has(id)) firstIndexOf.set(id, i)
    else unique = false
  }
  // Duplicate ids would make the search by id find the first copy: walk such files instead.
  idsAreUsable = unique
  locator = undefined
  const style = detectStyle(text)
  // Pretty files (what Node-RED writes with flowFilePretty) get every position from one pass, on first use.
  let layout: PrettyLayout | null | undefined
  const pretty = (index: number): PrettyLayout | null => {
    layout ??= (unique && PrettyLayout.scan(text, style.indent, format === 'array' ? 1 : 2, ids, style.eol)) || null
    return layout?.has(index) ? layout : null
  }
  const nodeOffset = (index: number): number => pretty(index)?.offsets[index] ?? offsetOf(index)
  const positionOf = (index: number): Position => {
    const p = pretty(index)
    return p ? {line: p.lines[index], column: p.column} : lines.positionAt(offsetOf(index))
  }
  return {
    path,
    format,
    ...(rev === undefined ? {} : {rev}),
    nodes: nodes as FlowNode[],
    positionOf,
    positionAt: offset => lines.positionAt(offset),
    offsetOf: nodeOffset,
    ...style,
    text,
    firstIndexOf,
    ids,
    types,
    duplicateIds: !unique,
  }
}

function firstNonSpace(text: string): number {
  const m = /\S/.exec(text)
  return m ? m.index : 0
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return 'a string'
  if (typeof v === 'number') return 'a number'
  if (typeof v === 'boolean') return 'a boolean'
  return typeof v === 'object' ? 'an object' : typeof v
}

/** Indentation unit (from the first indented line), line break style and final newline. */
export function detectStyle(text: string): {indent: string; finalNewline: boolean; eol: '\n' | '\r\n'} {
  const nl = text.indexOf('\n')
  const eol = nl > 0 && text.charCodeAt(nl - 1) === 0x0d ? '\r\n' : '\n'
  const finalNewline = text.endsWith('\n')
  let indent = ''
  if (nl !== -1 && nl < text.length - 1) {
    const m = /^[ \t]+/.exec(text.slice(nl + 1, nl + 200))
    if (m) indent = m[0]
  }
  return {indent, finalNewline, eol}
}
