// A flows file after text edits that each replace one string value inside one node object (what --fix
// makes), without parsing the new text again: the nodes are the same objects with the new values set, and
// each node's offset moves by the edits before it. Parsing again would hold two copies of every node at
// once and cost a second JSON.parse; this keeps --fix under twice a plain lint in time and memory.
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
 * `file` with `text` (its text with `edits` made, sorted by start and not overlapping) and `changes` set
 * on its nodes. The node objects are shared with `file` and changed in place: `file` is not to be used
 * after. Not for changes to a node's id or type (the id index would be stale): parse such a text again.
 */
export function editedFlowsFile(file: FlowsFile, text: string, edits: readonly TextEdit[], changes: readonly ValueChange[]): FlowsFile {
  for (const c of changes) (file.nodes[c.index] as Record<string, unknown>)[c.key] = c.value
  // shift[k]: how far an offset past edits[k - 1] moves (prefix sums of the length changes).
  const starts = new Float64Array(edits.length)
  const shift = new Float64Array(edits.length + 1)
  edits.forEach((e, k) => {
    starts[k] = e.start
    shift[k + 1] = shift[k] + e.replacement.length - (e.end - e.start)
  })
  const moved = (offset: number): number => {
    // Number of edits that start before offset (a node's `{` is never inside an edit).
    let lo = 0
    let hi = edits.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid] < offset) lo = mid + 1
      else hi = mid
    }
    return offset + shift[lo]
  }
  const lines = new LineIndex(text)
  return {
    ...file,
    text,
    offsetOf: index => moved(file.offsetOf(index)),
    positionOf: index => lines.positionAt(moved(file.offsetOf(index))),
    positionAt: offset => lines.positionAt(offset),
  }
}
