// Reading an open file descriptor to its end without ever holding more than a cap: a device such as /dev/zero
// or an endless pipe is refused as soon as it passes the cap, not read until memory runs out. Flows inputs and
// profiles both read this way; each caller says what "too big" means for it and maps read errors to its words.
import {readSync} from 'node:fs'

/**
 * The UTF-8 text of `fd`, read in chunks. Throws `tooBig()` once more than `max` bytes came; a read error is
 * thrown as it is (the caller names the file). EAGAIN (a non-blocking pipe with nothing yet) waits and retries.
 */
export function readCapped(fd: number, max: number, tooBig: () => Error): string {
  const chunks: Buffer[] = []
  let total = 0
  const size = 1 << 20
  const chunk = Buffer.allocUnsafe(size)
  for (;;) {
    let n: number
    try {
      n = readSync(fd, chunk, 0, size, null)
    } catch (err) {
      if ((err as {code?: string}).code === 'EAGAIN') {
        // Wait a little, without spinning.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
        continue
      }
      throw err
    }
    if (n === 0) break
    total += n
    if (total > max) throw tooBig()
    // A copy of what came: a pipe gives 64 kB at a time, and keeping 1 MB buffers for it would waste memory.
    chunks.push(Buffer.from(chunk.subarray(0, n)))
  }
  return Buffer.concat(chunks, total).toString('utf8')
}
