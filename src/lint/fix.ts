// --fix: rewrite one string property per fix in the text itself, so that everything else in the file
// (indentation, key order, escapes, line breaks) stays byte for byte; then write atomically.
import {renameSync, statSync, writeFileSync, chmodSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {InputError} from '../errors.js'
import type {FlowsFile} from '../flows/parse.js'
import {skipString} from '../flows/scan.js'
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
  text: string
  applied: AppliedFix[]
  /** `-`/`+` lines per change, for --dry-run. */
  diff: string
}

/** Apply fixes to the file's text. A fix whose value is not where expected is skipped, never guessed. */
export function applyFixes(file: FlowsFile, fixes: Fix[]): FixResult {
  const edits: Array<{start: number; end: number; replacement: string; fix: Fix}> = []
  for (const fix of fixes) {
    const span = findStringValue(file.text, file.offsetOf(fix.index), fix.key)
    if (!span) continue
    const literal = file.text.slice(span.start, span.end)
    if (JSON.parse(literal) !== fix.from) continue
    // When the new value only adds a prefix, insert it and keep the original escapes of the rest.
    const replacement = fix.to.endsWith(fix.from) ? `"${JSON.stringify(fix.to.slice(0, fix.to.length - fix.from.length)).slice(1, -1)}${literal.slice(1)}` : JSON.stringify(fix.to)
    edits.push({start: span.start, end: span.end, replacement, fix})
  }
  edits.sort((a, b) => b.start - a.start)
  let text = file.text
  const applied: AppliedFix[] = []
  const diff: string[] = []
  for (const e of edits) {
    text = text.slice(0, e.start) + e.replacement + text.slice(e.end)
  }
  for (const e of [...edits].reverse()) {
    const pos = file.positionAt(e.start)
    const node = file.nodes[e.fix.index]
    applied.push({nodeId: node.id, key: e.fix.key, from: e.fix.from, to: e.fix.to, line: pos.line, column: pos.column})
    const lineStart = file.text.lastIndexOf('\n', e.start - 1) + 1
    const lineEnd = endOfLine(file.text, e.end)
    const before = file.text.slice(lineStart, lineEnd)
    const after = before.slice(0, e.start - lineStart) + e.replacement + before.slice(e.end - lineStart)
    diff.push(`@@ ${file.path}:${pos.line}:${pos.column} ${node.type} ${node.id} ${e.fix.key}`)
    diff.push(`-${clip(before, e.start - lineStart)}`, `+${clip(after, e.start - lineStart)}`)
  }
  return {text, applied, diff: diff.length ? diff.join('\n') + '\n' : ''}
}

function endOfLine(text: string, from: number): number {
  const nl = text.indexOf('\n', from)
  const end = nl === -1 ? text.length : nl
  return end > from && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end
}

/** A minified file is one line: show 60 characters around the change rather than megabytes. */
function clip(line: string, at: number): string {
  if (line.length <= 200) return line
  const from = Math.max(0, at - 60)
  return `${from > 0 ? '…' : ''}${line.slice(from, at + 140)}…`
}

/** The span of the JSON string literal that is the value of `key` directly in the object at `start`. */
export function findStringValue(text: string, start: number, key: string): {start: number; end: number} | undefined {
  if (text.charCodeAt(start) !== 0x7b) return undefined
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
          if (name === key) return text[j] === '"' ? {start: j, end: skipString(text, j)} : undefined
          expectKey = false
          i = j - 1
          continue
        }
      }
      i = end - 1
    } else if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) {
      depth--
      if (depth === 0) return undefined
    } else if (c === 0x2c && depth === 1) expectKey = true
  }
  return undefined
}

/** Write via a temp file in the same directory and rename over, keeping the file's mode. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.ff-ha-${process.pid}-${Date.now()}.tmp`)
  try {
    const mode = statSync(path).mode & 0o7777
    writeFileSync(tmp, text, {mode})
    chmodSync(tmp, mode)
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, {force: true})
    throw new InputError(`${path}: cannot write the fixed file (${(err as {code?: string}).code ?? (err as Error).message})`)
  }
}
