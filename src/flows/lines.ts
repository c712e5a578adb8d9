// Offset -> line:col for big texts, in time linear in the text for any layout. One indexOf pass over the
// line breaks keeps checkpoints (offset and line of a line start): every 16th line start (a 150 MB pretty
// file has ~5 million lines: storing every start costs more than counting them), and both ends of every
// long line. A lookup binary-searches the checkpoints and counts the line breaks left with indexOf, which
// never reads more than one short block: a block is either at most 16 short lines or one long line, where
// nothing is left to count. Without the long-line checkpoints a minified file (one line: how Node-RED writes
// flows without flowFilePretty, and what GET /flows and editor exports give) made each lookup read the
// whole rest of the file.

export interface Position {
  /** 1-based. */
  line: number
  /** 1-based, in UTF-16 code units (what editors and GitHub count for BMP text). */
  column: number
}

/** Lines per checkpoint. */
const STEP = 16
/** A line longer than this gets checkpoints at both ends: counting line breaks never crosses it. */
const LONG = 512

export class LineIndex {
  private offsets: Int32Array | undefined
  /** lines[k]: 0-based line number at offsets[k]; the last entry is a sentinel just past the text. */
  private lines: Int32Array | undefined
  /** Characters read by lookups so far (tests check that it stays linear in the text, not in lookups x text). */
  charsRead = 0
  constructor(private readonly text: string) {}

  positionAt(offset: number): Position {
    if (!this.offsets) this.build()
    const offsets = this.offsets!
    const lines = this.lines!
    let lo = 0
    let hi = offsets.length - 2
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (offsets[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    let line = lines[lo]
    let start = offsets[lo]
    // A block of one line (a long line, or the last line) has no line break to count before `offset`.
    if (lines[lo + 1] - line > 1) {
      let i = this.text.indexOf('\n', start)
      for (; i !== -1 && i < offset; i = this.text.indexOf('\n', i + 1)) {
        line++
        start = i + 1
      }
      this.charsRead += (i === -1 ? this.text.length : i) - offsets[lo]
    }
    return {line: line + 1, column: offset - start + 1}
  }

  private build(): void {
    const text = this.text
    let offsets = new Int32Array(1024)
    let lines = new Int32Array(1024)
    let n = 0
    const keep = (offset: number, line: number) => {
      if (n > 0 && offsets[n - 1] === offset) return
      if (n === offsets.length) {
        const o = new Int32Array(n * 2)
        o.set(offsets)
        offsets = o
        const l = new Int32Array(n * 2)
        l.set(lines)
        lines = l
      }
      offsets[n] = offset
      lines[n++] = line
    }
    keep(0, 0)
    let line = 0
    let lineStart = 0
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
      const long = i - lineStart > LONG
      if (long) keep(lineStart, line)
      line++
      lineStart = i + 1
      if (long || line - lines[n - 1] >= STEP) keep(lineStart, line)
    }
    // A long last line (no line break after it) is a block of its own too; then the sentinel.
    if (text.length - lineStart > LONG) keep(lineStart, line)
    keep(text.length + 1, line + 1)
    this.offsets = offsets.subarray(0, n)
    this.lines = lines.subarray(0, n)
  }
}
