// One charCodeAt pass over a flows file that JSON.parse has already accepted: it records the offset of the
// `{` of each node object, so that findings can name a line and column. Strings are skipped with indexOf;
// only structure characters outside strings are looked at. Valid JSON is assumed (parse first).
// Kept rather than a library (issue 12 point 7): a parser that reports positions (jsonc-parser, momoa) would
// replace JSON.parse + this pass, so it must beat both; `node bench/lib-choice/run.js` (2026-12-06): this pass
// is 0.47x of JSON.parse (243 ms against 518 ms on 77 MB, 200,000 nodes). No such parser is installed to
// measure against directly: see the bench's header.

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
 * `{` of the node object `{"id": <id>, "type": <type>, ...` at or after `from`, or -1. Inside JSON strings
 * quotes are escaped, so this unescaped pattern is structure, never text; references to the node (wires,
 * links, subflow ports) do not continue with its type.
 */
export function findNodeObject(text: string, from: number, id: string, type: string): number {
  for (let q = text.indexOf(id, from); q !== -1; q = text.indexOf(id, q + 1)) {
    // Backwards: `{` ws `"id"` ws `:` ws
    let p = skipSpace(text, q - 1, -1)
    if (text.charCodeAt(p) !== 0x3a) continue
    p = skipSpace(text, p - 1, -1)
    if (p < 4 || !text.startsWith('"id"', p - 3)) continue
    p = skipSpace(text, p - 4, -1)
    if (text.charCodeAt(p) !== 0x7b) continue
    // Forwards: ws `,` ws `"type"` ws `:` ws <type>
    let r = skipSpace(text, q + id.length, 1)
    if (text.charCodeAt(r) !== 0x2c) continue
    r = skipSpace(text, r + 1, 1)
    if (!text.startsWith('"type"', r)) continue
    r = skipSpace(text, r + 6, 1)
    if (text.charCodeAt(r) !== 0x3a) continue
    r = skipSpace(text, r + 1, 1)
    if (text.startsWith(type, r)) return p
  }
  return -1
}

/**
 * Node offsets on demand. Fast path, for files Node-RED wrote (each node object starts with its id and
 * type, ids unique): find just the nodes asked for, with indexOf from the nearest node already found, so
 * a lint that reports 15,000 of 200,000 nodes reads the text once at indexOf speed. Any miss switches to
 * walking the whole text (scanNodeOffsets), which makes no assumption about key order; so does reading more
 * than twice the text in searches (lookups far out of file order, on a minified file each one could read
 * megabytes): the total work stays linear in the text, whatever the order of the lookups.
 */
export class NodeLocator {
  private readonly known: Int32Array
  private walked: number[] | undefined
  private last = -1
  /** Characters searched so far; past twice the text, walking once is cheaper. */
  charsSearched = 0

  constructor(
    private readonly text: string,
    private readonly start: number,
    private readonly format: 'array' | 'v2',
    private readonly nodes: ReadonlyArray<{id: string; type: string}>,
    byId: boolean,
  ) {
    this.known = new Int32Array(byId ? nodes.length : 0).fill(-1)
    if (!byId) this.walk()
  }

  offsetOf(i: number): number {
    if (this.walked) return this.walked[i] ?? this.start
    if (i < 0 || i >= this.nodes.length) return this.start
    if (this.known[i] !== -1) return this.known[i]
    // Search from the closest earlier node found (usually the last one: lints go in file order).
    let from = this.start
    if (this.last !== -1 && this.last < i) from = this.known[this.last] + 1
    else {
      for (let j = i - 1; j >= 0 && j >= i - 4096; j--) {
        if (this.known[j] !== -1) {
          from = this.known[j] + 1
          break
        }
      }
    }
    if (this.charsSearched > 2 * this.text.length) return this.walk()[i] ?? this.start
    const found = findNodeObject(this.text, from, JSON.stringify(this.nodes[i].id), JSON.stringify(this.nodes[i].type))
    this.charsSearched += (found === -1 ? this.text.length : found) - from
    if (found === -1) return this.walk()[i] ?? this.start
    this.known[i] = found
    if (i > this.last) this.last = i
    return found
  }

  private walk(): number[] {
    const offsets = scanNodeOffsets(this.text, this.start, this.format)
    // The walk and JSON.parse must agree; if they ever do not, positions fall back to the file start.
    this.walked = offsets.length === this.nodes.length ? offsets : []
    return this.walked
  }
}

/**
 * Node positions in one pass, for files laid out as JSON.stringify(flows, null, indent) writes them (Node-RED's
 * flowFilePretty): each node's `{` stands alone on a line at the nodes' indentation (1 level in an array
 * file, 2 in a v2 file), and its first key is its id. In valid JSON a line break is never inside a string,
 * so every line start is between tokens: one indexOf pass over the line breaks finds those lines and counts
 * lines on the way, which gives the offset and line of every node with no search per node. An entry is
 * used only when the object there opens with the id of the node it stands for (checked on first use), so
 * a file laid out otherwise never gets a wrong position, only the slower search (NodeLocator) for the
 * nodes that do not match.
 */
export class PrettyLayout {
  /** Column (1-based) of every node's `{`. */
  readonly column: number
  private readonly matched: Uint8Array // 0 unknown, 1 that node's object, 2 not

  private constructor(
    private readonly text: string,
    readonly offsets: Int32Array,
    readonly lines: Int32Array,
    private readonly ids: readonly string[],
    width: number,
    /** What follows the `{` of a node: a line break, one more level of indentation, the id key. */
    private readonly idKey: string,
  ) {
    this.column = width + 1
    this.matched = new Uint8Array(offsets.length)
  }

  /** The layout of `ids.length` nodes, or undefined when the lines found do not match the node count. */
  static scan(text: string, unit: string, depth: number, ids: readonly string[], eol: string): PrettyLayout | undefined {
    const count = ids.length
    if (unit === '' || count === 0) return undefined
    const width = unit.length * depth
    const offsets = new Int32Array(count)
    const lines = new Int32Array(count)
    let k = 0
    let line = 1
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) {
      line++
      const s = nl + 1
      if (text.charCodeAt(s + width) !== OPEN_BRACE) continue
      const after = text.charCodeAt(s + width + 1)
      if (after !== 0x0a && after !== 0x0d) continue
      let indented = true
      for (let j = 0; j < width && indented; j++) indented = text.charCodeAt(s + j) === unit.charCodeAt(j % unit.length)
      if (!indented) continue
      if (k === count) return undefined
      offsets[k] = s + width
      lines[k++] = line
    }
    return k === count ? new PrettyLayout(text, offsets, lines, ids, width, `${eol}${unit.repeat(depth + 1)}"id": `) : undefined
  }

  /** Whether entry i is the object of node i: it opens with that node's id (checked on first use). */
  has(i: number): boolean {
    const m = this.matched[i]
    if (m !== 0) return m === 1
    const p = this.offsets[i] + 1
    const ok = this.text.startsWith(this.idKey, p) && stringAt(this.text, p + this.idKey.length, this.ids[i]) !== -1
    this.matched[i] = ok ? 1 : 2
    return ok
  }
}

/** Index just past the JSON string for `value` when it starts at `at` (as JSON.stringify writes it), else -1. */
function stringAt(text: string, at: number, value: string): number {
  if (isPlain(value)) {
    if (text.charCodeAt(at) !== QUOTE || !text.startsWith(value, at + 1) || text.charCodeAt(at + 1 + value.length) !== QUOTE) return -1
    return at + value.length + 2
  }
  const json = JSON.stringify(value)
  return text.startsWith(json, at) ? at + json.length : -1
}

/** No character that JSON.stringify escapes (quote, backslash, control characters, surrogates). */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || (c >= 0xd800 && c <= 0xdfff)) return false
  }
  return true
}
