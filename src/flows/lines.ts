// Offset -> line:col for big texts. One indexOf pass counts the lines and keeps the start of every 16th
// (a 150 MB flows file has ~5 million lines: storing every start costs more than counting them); a lookup
// binary-searches those and counts the few lines left with indexOf.

export interface Position {
  /** 1-based. */
  line: number
  /** 1-based, in UTF-16 code units (what editors and GitHub count for BMP text). */
  column: number
}

/** Lines per kept line start. */
const STEP = 16

export class LineIndex {
  /** starts[k] is the offset where line k * STEP (0-based) starts. */
  private starts: Int32Array | undefined
  constructor(private readonly text: string) {}

  positionAt(offset: number): Position {
    const starts = (this.starts ??= sparseLineStarts(this.text))
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    let line = lo * STEP
    let start = starts[lo]
    for (let i = this.text.indexOf('\n', start); i !== -1 && i < offset; i = this.text.indexOf('\n', i + 1)) {
      line++
      start = i + 1
    }
    return {line: line + 1, column: offset - start + 1}
  }
}

function sparseLineStarts(text: string): Int32Array {
  let starts = new Int32Array(1024)
  let n = 1
  let line = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (++line % STEP !== 0) continue
    if (n === starts.length) {
      const bigger = new Int32Array(starts.length * 2)
      bigger.set(starts)
      starts = bigger
    }
    starts[n++] = i + 1
  }
  return starts.subarray(0, n)
}
