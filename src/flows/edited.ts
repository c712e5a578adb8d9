// A flows file after text edits that each replace one string value inside one node object (what --fix
// makes), without parsing the new text again: the nodes are the same objects with the new values set, and
// each node's offset moves by the edits before it. Parsing again would hold two copies of every node at
// once and cost a second JSON.parse, and joining the new text a second copy of the text; this keeps --fix
// under twice a plain lint in time and memory.
import type {FlowsFile} from './parse.js'
import {LineIndex} from './lines.js'

export interface TextEdit {
  /** The span replaced in the old text: a whole JSON string literal. */
  start: number
  end: number
  /** The new JSON string literal (no line break: JSON escapes them). */
  replacement: string
}

export interface ValueChange {
  index: number
  key: string
  value: string
}

/**
 * `file` after `edits` (sorted by start, not overlapping), with `changes` set on its nodes. The node objects
 * are shared with `file` and changed in place: `file` is not to be used after. Not for changes to a node's
 * id (the id index would be stale): parse such a text again. A type change (lint --fix: mqtt in -> ff-ha mqtt
 * in) is kept in step in `types` too. The new text is joined only if asked
 * for (`text`, `positionAt`): --fix writes it from its pieces, and node positions come from the old ones.
 */
export function editedFlowsFile(file: FlowsFile, edits: readonly TextEdit[], changes: readonly ValueChange[]): FlowsFile {
  for (const c of changes) {
    const node = file.nodes[c.index] as Record<string, unknown>
    node[c.key] = c.value
    if (c.key === 'type') file.types[c.index] = c.value
  }
  const oldText = file.text
  // shift[k]: how far an offset past edits[k - 1] moves (prefix sums of the length changes). An edit has no
  // line break, so lines stay; a column moves by the edits before it on its own line (first[k]: the first
  // edit on edit k's line), which on a minified file is every edit before it.
  const starts = new Float64Array(edits.length)
  const shift = new Float64Array(edits.length + 1)
  const lineOf = new Int32Array(edits.length)
  const first = new Int32Array(edits.length)
  edits.forEach((e, k) => {
    starts[k] = e.start
    shift[k + 1] = shift[k] + e.replacement.length - (e.end - e.start)
    lineOf[k] = file.positionAt(e.start).line
    first[k] = k > 0 && lineOf[k - 1] === lineOf[k] ? first[k - 1] : k
  })
  /** Number of edits that start before offset (a node's `{` is never inside an edit). */
  const before = (offset: number): number => {
    let lo = 0
    let hi = edits.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid] < offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  let text: string | undefined
  let lines: LineIndex | undefined
  const newText = () => (text ??= spliceText(oldText, edits))
  return {
    ...file,
    get text() {
      return newText()
    },
    offsetOf(index) {
      const o = file.offsetOf(index)
      return o + shift[before(o)]
    },
    positionOf(index) {
      const p = file.positionOf(index)
      const k = before(file.offsetOf(index))
      if (k === 0 || lineOf[k - 1] !== p.line) return p
      return {line: p.line, column: p.column + shift[k] - shift[first[k - 1]]}
    },
    positionAt: offset => (lines ??= new LineIndex(newText())).positionAt(offset),
  }
}

/** The text with each edit's span replaced (edits sorted by start, not overlapping). */
export function spliceText(text: string, edits: readonly TextEdit[]): string {
  return textPieces(text, edits).join('')
}

/** The new text as pieces: slices of the old text (which V8 makes without copying) and the replacements. */
export function textPieces(text: string, edits: readonly TextEdit[]): string[] {
  const parts: string[] = []
  let at = 0
  for (const e of edits) {
    parts.push(text.slice(at, e.start), e.replacement)
    at = e.end
  }
  parts.push(text.slice(at))
  return parts
}
