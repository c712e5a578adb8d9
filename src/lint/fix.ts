// --fix: rewrite one string property per fix in the text itself, so that everything else in the file
// (indentation, key order, escapes, line breaks) stays byte for byte; then write atomically.
import {chmodSync, closeSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {InputError} from '../errors.js'
import {printable} from '../flows/printable.js'
import type {FlowsFile} from '../flows/parse.js'
import {skipString} from '../flows/scan.js'
import {textPieces, type TextEdit, type ValueChange} from '../flows/edited.js'
import type {Fix} from './types.js'

export interface AppliedFix {
  nodeId: string
  key: string
  from: string
  to: string
  line: number
  column: number
}

export interface FixResult {
  /** The new text (joined on first use: --fix writes `pieces`). */
  readonly text: string
  /** The new text in pieces, in order. */
  pieces: string[]
  /** The changes made, in file order: each replaces one string value inside one node object. */
  edits: TextEdit[]
  /** The same changes as new node values. */
  changes: ValueChange[]
  applied: AppliedFix[]
  /** `-`/`+` lines per change, for --dry-run. */
  diff: string
  /** Nodes were inserted (the singleton): indexes moved, so the text must be parsed again. */
  reparse: boolean
}

/** Apply fixes to the file's text. A fix whose value is not where expected is skipped, never guessed.
 * Linear in the file and the fixes: the new text is pieces of the old and the replacements, and each
 * change's line is shown from a window around it (a minified file is one line of many megabytes). */
export function applyFixes(file: FlowsFile, fixes: Fix[]): FixResult {
  const found: TextEdit[] = []
  const byStart = new Map<number, Fix>()
  const inserts: Array<{fix: Fix; wires: TextEdit; node: TextEdit}> = []
  for (const fix of fixes) {
    if (fix.insert) {
      const planned = insertEdits(file, fix)
      if (planned) inserts.push({fix, ...planned})
      continue
    }
    const span = findStringValue(file.text, file.offsetOf(fix.index), fix.key)
    if (!span) continue
    const literal = file.text.slice(span.start, span.end)
    if (JSON.parse(literal) !== fix.from) continue
    // When the new value only adds a prefix, insert it and keep the original escapes of the rest.
    const replacement = fix.to.endsWith(fix.from) ? `"${JSON.stringify(fix.to.slice(0, fix.to.length - fix.from.length)).slice(1, -1)}${literal.slice(1)}` : JSON.stringify(fix.to)
    found.push({start: span.start, end: span.end, replacement})
    byStart.set(span.start, fix)
  }
  // An insert's two edits (the wires, the new node after the object) go in together or not at all.
  for (const ins of inserts) {
    found.push(ins.wires, ins.node)
    byStart.set(ins.wires.start, ins.fix)
  }
  found.sort((a, b) => a.start - b.start || a.end - b.end)
  // Two fixes of the same value (or overlapping spans) would corrupt the text: the first one wins.
  const kept = found.filter((e, k) => k === 0 || e.start >= found[k - 1].end)
  const keptSet = new Set(kept)
  const whole = new Set(inserts.filter(i => keptSet.has(i.wires) && keptSet.has(i.node)).flatMap(i => [i.wires, i.node]))
  const insertEditSet = new Set(inserts.flatMap(i => [i.wires, i.node]))
  const edits = kept.filter(e => !insertEditSet.has(e) || whole.has(e))
  const pieces = textPieces(file.text, edits)
  let text: string | undefined
  const applied: AppliedFix[] = []
  const changes: ValueChange[] = []
  const diff: string[] = []
  for (const e of edits) {
    const fix = byStart.get(e.start)
    // The second edit of an insert (the new node) is shown with its first.
    if (!fix || (fix.insert && !insertEditSet.has(e))) continue
    const pos = file.positionAt(e.start)
    const node = file.nodes[fix.index]
    if (fix.insert) {
      const added = fix.insert.node
      applied.push({nodeId: node.id, key: fix.key, from: fix.from, to: fix.to, line: pos.line, column: pos.column})
      diff.push(printable(`@@ ${file.path}:${pos.line}:${pos.column} ${node.type} ${node.id} wires, and a new ${added.type} ${added.id} after it`))
      diff.push(printable(`-"wires": ${fix.from}`), printable(`+"wires": ${fix.to}`), printable(`+${JSON.stringify(added)}`))
      continue
    }
    applied.push({nodeId: node.id, key: fix.key, from: fix.from, to: fix.to, line: pos.line, column: pos.column})
    changes.push({index: fix.index, key: fix.key, value: fix.to})
    // The file's own text, but a JSON string may hold C1 controls and bidi overrides raw: shown escaped.
    diff.push(printable(`@@ ${file.path}:${pos.line}:${pos.column} ${node.type} ${node.id} ${fix.key}`))
    for (const l of changedLine(file.text, e, e.start - (pos.column - 1))) diff.push(printable(l, true))
  }
  return {
    get text() {
      return (text ??= pieces.join(''))
    },
    pieces,
    applied,
    diff: diff.length ? diff.join('\n') + '\n' : '',
    edits,
    changes,
    reparse: edits.some(e => whole.has(e)),
  }
}

/**
 * The two edits of an insert fix: the node's `wires` value replaced, and the new node written after the node's
 * object, each in the file's style (pretty files: one property a line at the node's indentation; minified: none).
 * Undefined when the wires are not what the fix expects (the file changed under it): skipped, never guessed.
 */
function insertEdits(file: FlowsFile, fix: Fix): {wires: TextEdit; node: TextEdit} | undefined {
  const {text} = file
  const start = file.offsetOf(fix.index)
  const span = findValue(text, start, fix.key)
  if (!span) return undefined
  let current: unknown
  try {
    current = JSON.parse(text.slice(span.start, span.end))
  } catch {
    return undefined
  }
  if (JSON.stringify(current) !== fix.from) return undefined
  const end = skipValue(text, start)
  const objectIndent = indentAt(text, start)
  const keyIndent = indentBefore(text, span.start)
  const pretty = file.indent !== '' && objectIndent !== undefined && text.slice(start, end).includes('\n')
  const wires = pretty && keyIndent !== undefined ? JSON.stringify(fix.insert!.wires, null, file.indent).replace(/\n/g, file.eol + keyIndent) : JSON.stringify(fix.insert!.wires)
  const node = fix.insert!.node
  const added =
    objectIndent === undefined
      ? `,${JSON.stringify(node)}`
      : `,${file.eol}${objectIndent}${pretty ? JSON.stringify(node, null, file.indent).replace(/\n/g, file.eol + objectIndent) : JSON.stringify(node)}`
  return {wires: {start: span.start, end: span.end, replacement: wires}, node: {start: end, end, replacement: added}}
}

/** The whitespace before offset when only whitespace precedes it on its line, else undefined. */
function indentAt(text: string, offset: number): string | undefined {
  let s = offset
  while (s > 0 && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--
  return s === 0 || text[s - 1] === '\n' ? text.slice(s, offset) : undefined
}

/** The indentation of the line holding offset (the key before a value), when the key starts its line. */
function indentBefore(text: string, offset: number): string | undefined {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  const m = /^[ \t]*/.exec(text.slice(lineStart, offset))![0]
  return text[lineStart + m.length] === '"' ? m : undefined
}

/** The end of the JSON value (object, array, string or scalar) starting at `start`. */
export function skipValue(text: string, start: number): number {
  const c = text.charCodeAt(start)
  if (c === 0x22) return skipString(text, start)
  if (c !== 0x7b && c !== 0x5b) {
    let i = start
    while (i < text.length && !/[\s,\]}]/.test(text[i])) i++
    return i
  }
  let depth = 0
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i)
    if (d === 0x22) i = skipString(text, i) - 1
    else if (d === 0x7b || d === 0x5b) depth++
    else if (d === 0x7d || d === 0x5d) {
      depth--
      if (depth === 0) return i + 1
    }
  }
  return text.length
}

/** The span of the value (of any JSON type) of `key` directly in the object at `start`; the last when repeated. */
export function findValue(text: string, start: number, key: string): {start: number; end: number} | undefined {
  if (text.charCodeAt(start) !== 0x7b) return undefined
  let found: {start: number; end: number} | undefined
  let i = start + 1
  for (;;) {
    while (i < text.length && /[\s,]/.test(text[i])) i++
    if (text[i] !== '"') return text[i] === '}' ? found : undefined
    const keyEnd = skipString(text, i)
    const name = JSON.parse(text.slice(i, keyEnd)) as string
    let j = keyEnd
    while (/\s/.test(text[j] ?? '')) j++
    if (text[j] !== ':') return undefined
    j++
    while (/\s/.test(text[j] ?? '')) j++
    const valueEnd = skipValue(text, j)
    if (name === key) found = {start: j, end: valueEnd}
    i = valueEnd
  }
}

/** How far past a change its line's end is looked for: further than anything a shown line needs. */
const WINDOW = 400
/** A line longer than this is clipped to 60 characters before the change and 140 from it. */
const SHOWN = 200

/**
 * `-` and `+` lines of one change: the whole line when short, else a clip around the change. Reads only a
 * window around the change, never the whole line: on a minified file that would read the file per fix.
 */
function changedLine(text: string, e: TextEdit, lineStart: number): [string, string] {
  // The line's end, if within WINDOW of the change; else the line is known to be long (clipped either way).
  let lineEnd = -1
  const stop = Math.min(text.length, e.end + WINDOW)
  for (let i = e.end; i < stop; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      lineEnd = i
      break
    }
  }
  if (lineEnd === -1 && stop === text.length) lineEnd = text.length
  if (lineEnd > e.end && text.charCodeAt(lineEnd - 1) === 0x0d) lineEnd--
  const at = e.start - lineStart
  const suffixEnd = lineEnd === -1 ? stop : lineEnd
  const beforeLength = lineEnd === -1 ? Infinity : lineEnd - lineStart
  const afterLength = beforeLength - (e.end - e.start) + e.replacement.length
  const from = Math.max(0, at - 60)
  const mark = from > 0 ? '…' : ''
  const before =
    beforeLength <= SHOWN
      ? text.slice(lineStart, lineEnd)
      : `${mark}${text.slice(lineStart + from, Math.min(lineStart + at + 140, suffixEnd))}…`
  const after =
    afterLength <= SHOWN
      ? text.slice(lineStart, e.start) + e.replacement + text.slice(e.end, lineEnd)
      : `${mark}${text.slice(lineStart + from, e.start)}${(e.replacement + text.slice(e.end, Math.min(suffixEnd, e.end + 140))).slice(0, 140)}…`
  return [`-${before}`, `+${after}`]
}

/**
 * The span of the JSON string literal that is the value of `key` directly in the object at `start`. When the
 * key repeats, the last one: JSON.parse (and Node-RED) take that value.
 */
export function findStringValue(text: string, start: number, key: string): {start: number; end: number} | undefined {
  if (text.charCodeAt(start) !== 0x7b) return undefined
  let found: {start: number; end: number} | undefined
  let depth = 0
  let expectKey = true
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      const end = skipString(text, i)
      if (depth === 1 && expectKey) {
        const name = JSON.parse(text.slice(i, end)) as string
        let j = end
        while (/\s/.test(text[j] ?? '')) j++
        if (text[j] === ':') {
          j++
          while (/\s/.test(text[j] ?? '')) j++
          if (name === key) found = text[j] === '"' ? {start: j, end: skipString(text, j)} : undefined
          expectKey = false
          i = j - 1
          continue
        }
      }
      i = end - 1
    } else if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) {
      depth--
      if (depth === 0) return found
    } else if (c === 0x2c && depth === 1) expectKey = true
  }
  return undefined
}

/**
 * Write via a temp file beside the file and rename over it, keeping the file's mode. A symlink is written
 * through: the temp file goes beside the link's target and replaces the target, so the link stays a link
 * (renaming over the link itself made it a regular file and left the target as it was).
 */
export function writeFileAtomic(path: string, text: string | readonly string[]): void {
  let target: string
  try {
    target = realpathSync(path)
  } catch (err) {
    throw new InputError(`${path}: cannot write the fixed file (${(err as {code?: string}).code ?? (err as Error).message})`, 'check that the file (or the target of its link) still exists')
  }
  const tmp = join(dirname(target), `.${basename(target)}.ff-ha-${process.pid}-${Date.now()}.tmp`)
  try {
    const mode = statSync(target).mode & 0o7777
    const fd = openSync(tmp, 'wx', mode)
    try {
      // Piece by piece: joining a 150 MB text first would hold a second copy of it, and its bytes a third.
      for (const piece of typeof text === 'string' ? [text] : text) writeSync(fd, piece)
      // On disk before the rename: after a crash the file is the old one or the new one, never a part.
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    chmodSync(tmp, mode)
    renameSync(tmp, target)
  } catch (err) {
    rmSync(tmp, {force: true})
    throw new InputError(`${path}: cannot write the fixed file (${(err as {code?: string}).code ?? (err as Error).message})`, `check that ${dirname(target)} is writable (the fix is written beside the file, then renamed over it)`)
  }
}
