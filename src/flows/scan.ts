// One charCodeAt pass over a flows file that JSON.parse has already accepted: it records the offset of the
// `{` of each node object, so that findings can name a line and column. Strings are skipped with indexOf;
// only structure characters outside strings are looked at. Valid JSON is assumed (parse first).

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** Index just past the closing quote of the string that opens at `start`. */
export function skipString(text: string, start: number): number {
  let i = start + 1
  for (;;) {
    const q = text.indexOf('"', i)
    if (q === -1) return text.length
    // An odd number of backslashes before the quote escapes it.
    let b = q - 1
    while (b >= start + 1 && text.charCodeAt(b) === BACKSLASH) b--
    if ((q - 1 - b) % 2 === 0) return q + 1
    i = q + 1
  }
}

/**
 * Offsets of the node objects: the elements of the top-level array (format 'array') or of the top-level
 * object's "flows" array (format 'v2'; the last "flows" key wins, as in JSON.parse).
 */
export function scanNodeOffsets(text: string, start: number, format: 'array' | 'v2'): number[] {
  let offsets: number[] = []
  let depth = 0
  // Depth of the array whose object elements are nodes: 1 for a top-level array, 2 for v2's flows.
  let nodesDepth = format === 'array' ? 1 : -1
  // The last string seen directly inside the v2 object: when an array opens there, it is that array's key.
  let lastKey = ''
  const n = text.length
  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = skipString(text, i)
      if (format === 'v2' && depth === 1) lastKey = text.slice(i + 1, end - 1)
      i = end - 1
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++
      if (c === OPEN_BRACE && depth === nodesDepth + 1 && nodesDepth > 0) offsets.push(i)
      else if (c === OPEN_BRACKET && format === 'v2' && depth === 2 && lastKey === 'flows') {
        nodesDepth = 2
        offsets = []
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (format === 'v2' && depth === 2 && nodesDepth === 2 && c === CLOSE_BRACKET) nodesDepth = -1
      depth--
      if (depth === 0) break
    }
  }
  return offsets
}

function skipSpace(text: string, i: number, step: 1 | -1): number {
  for (;;) {
    const c = text.charCodeAt(i)
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i += step
    else return i
  }
}

/**
 * The fast path for files Node-RED wrote (every node object starts `{"id": ..., "type": ...`): find each
 * node's own id in order with indexOf and check the text around it, instead of walking every character.
 * Inside JSON strings quotes are escaped, so `{"id": "X", "type": "T"` unescaped is structure, never text.
 * Returns undefined when any node does not match (then the caller walks the text with scanNodeOffsets).
 */
export function locateNodesById(text: string, start: number, nodes: ReadonlyArray<{id: string; type: string}>): number[] | undefined {
  const offsets = new Array<number>(nodes.length)
  const quotedTypes = new Map<string, string>()
  let cursor = start
  for (let i = 0; i < nodes.length; i++) {
    const id = JSON.stringify(nodes[i].id)
    let type = quotedTypes.get(nodes[i].type)
    if (type === undefined) quotedTypes.set(nodes[i].type, (type = JSON.stringify(nodes[i].type)))
    let found = -1
    for (let q = text.indexOf(id, cursor); q !== -1; q = text.indexOf(id, q + 1)) {
      // Backwards: `{` ws `"id"` ws `:` ws
      let p = skipSpace(text, q - 1, -1)
      if (text.charCodeAt(p) !== 0x3a) continue
      p = skipSpace(text, p - 1, -1)
      if (p < 4 || !text.startsWith('"id"', p - 3)) continue
      p = skipSpace(text, p - 4, -1)
      if (text.charCodeAt(p) !== 0x7b) continue
      // Forwards: ws `,` ws `"type"` ws `:` ws "<type>"
      let r = skipSpace(text, q + id.length, 1)
      if (text.charCodeAt(r) !== 0x2c) continue
      r = skipSpace(text, r + 1, 1)
      if (!text.startsWith('"type"', r)) continue
      r = skipSpace(text, r + 6, 1)
      if (text.charCodeAt(r) !== 0x3a) continue
      r = skipSpace(text, r + 1, 1)
      if (!text.startsWith(type, r)) continue
      found = p
      cursor = r + type.length
      break
    }
    if (found === -1) return undefined
    offsets[i] = found
  }
  return offsets
}
