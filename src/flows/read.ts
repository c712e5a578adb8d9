// Reading a flows input (a path, or stdin) with a size cap, so that no input can make ff-ha read without
// end: a regular file over the cap is refused from its size before a byte is read; stdin and pipes are
// read in chunks and refused as soon as they pass it; devices (/dev/zero), sockets and directories are
// refused from what they are. The cap also keeps below the largest string Node.js can hold (~536 MB).
import {closeSync, fstatSync, openSync, type Stats} from 'node:fs'
import {InputError} from '../errors.js'
import {readCapped} from '../io/read-capped.js'
import {printable} from './printable.js'

/** The default cap: a 200,000-node flows file is about 150 MB pretty-printed. */
export const DEFAULT_MAX_BYTES = 512 * 1000 * 1000
/** V8 cannot make a longer string (2^29 - 24 UTF-16 units); a bigger cap is refused when given. */
export const LARGEST_TEXT = 2 ** 29 - 24

/** What to do about a file over the cap: raise it while that can help, else split the flows. */
function sizeHint(flag: string | undefined, max: number, size?: number): string {
  if (flag === undefined) return `flows files over ${formatBytes(max)} are not read: split the flows into several files, for example one export per tab`
  if ((size ?? max + 1) > LARGEST_TEXT || max >= LARGEST_TEXT) {
    return `no flows file over ${formatBytes(LARGEST_TEXT)} can be read (the longest string Node.js can hold): split the flows into several files, for example one export per tab`
  }
  return `if the flows really are that big, raise the limit (up to ${formatBytes(LARGEST_TEXT)}, the longest string Node.js can hold): ${flag} ${Math.floor(LARGEST_TEXT / 1e6)}MB`
}

export interface ReadOptions {
  /** Refuse inputs over this many bytes (default DEFAULT_MAX_BYTES). */
  maxBytes?: number
  /** How the user raises the cap, for the hint (a flag); without it the hint only says to split the flows. */
  limitFlag?: string
}

/** `512 MB`, `1.5 GB`, `900 kB` (decimal units, as `ls -lh --si` and the flag take them). */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${+(n / 1e9).toFixed(1)} GB`
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)} MB`
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)} kB`
  return `${n} bytes`
}

/** `512MB`, `1.5GB`, `800k`, `1000000`: a size in bytes (decimal units; KiB/MiB/GiB binary). */
export function parseSize(spec: string, flag = '--max-size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb|kib|mib|gib)?\s*$/i.exec(spec)
  const unit = {b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30}
  if (!m) throw new InputError(`${flag} ${spec}: not a size`, `give bytes or a size with a unit: ${flag} 600MB`)
  const bytes = Math.floor(Number(m[1]) * unit[(m[2] ?? 'b').toLowerCase() as keyof typeof unit])
  if (bytes < 1) throw new InputError(`${flag} ${spec}: must be at least 1 byte`, `give a size with a unit: ${flag} 600MB`)
  if (bytes > LARGEST_TEXT) {
    throw new InputError(`${flag} ${spec}: over ${formatBytes(LARGEST_TEXT)}, the longest string Node.js can hold, so no flows file that big can be read`, 'split the flows into several files (one per tab), or lint it where it came from, in parts')
  }
  return bytes
}

/** The text of a flows file or of stdin (`-`), refused when it is over the cap or not something to read. */
export function readFlowsInput(path: string, options: ReadOptions = {}): string {
  const label = printable(path)
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES
  const flag = options.limitFlag
  if (path === '-') return readFlowsFd(0, '-', max, flag)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw openError(label, err)
  }
  try {
    let stat: Stats
    try {
      stat = fstatSync(fd)
    } catch (err) {
      throw openError(label, err)
    }
    if (stat.isDirectory()) throw new InputError(`${label}: is a directory, not a flows file`, 'name a flows file in it, or a quoted glob: "dir/*.json"')
    if (!stat.isFile() && !stat.isFIFO()) {
      const what = stat.isCharacterDevice() ? 'a character device' : stat.isBlockDevice() ? 'a block device' : stat.isSocket() ? 'a socket' : 'not a regular file'
      throw new InputError(`${label}: is ${what}, not a flows file`, 'name a regular file, or pipe the flows to stdin: ... | ff-ha lint flows -')
    }
    if (stat.isFile() && stat.size > max) throw new InputError(`${label}: ${formatBytes(stat.size)}, over the ${formatBytes(max)} limit for a flows file`, sizeHint(flag, max, stat.size))
    return readFlowsFd(fd, label, max, flag)
  } finally {
    closeSync(fd)
  }
}

function openError(path: string, err: unknown): InputError {
  const code = (err as {code?: string}).code
  const why: Record<string, [string, string]> = {
    ENOENT: ['no such file', 'check the path (globs are expanded by ff-ha when quoted)'],
    EISDIR: ['is a directory, not a flows file', 'name a flows file in it, or a quoted glob: "dir/*.json"'],
    EACCES: ['permission denied', 'check the file\'s permissions, or run as a user who may read it'],
    EPERM: ['permission denied', 'check the file\'s permissions, or run as a user who may read it'],
    ELOOP: ['is a symbolic link that loops (or too many links deep)', 'point the link at a real file: ls -l shows where it goes'],
    ENAMETOOLONG: ['the path is too long', 'check the path'],
    ENOTDIR: ['a part of the path is not a directory', 'check the path'],
    ENXIO: ['is a device or socket with nothing to read', 'name a regular file, or pipe the flows to stdin: ... | ff-ha lint flows -'],
  }
  const [what, hint] = why[code ?? ''] ?? [`cannot read it (${code ?? (err as Error).message})`, 'check that the file exists and can be read']
  return new InputError(`${path}: ${what}`, hint)
}

/** Read fd to its end, refusing as soon as more than `max` bytes came. */
function readFlowsFd(fd: number, path: string, max: number, flag: string | undefined): string {
  const tooBig = () => new InputError(`${path === '-' ? 'stdin (-)' : path}: over the ${formatBytes(max)} limit for a flows file (stopped reading there)`, sizeHint(flag, max))
  try {
    return readCapped(fd, max, tooBig)
  } catch (err) {
    if (err instanceof InputError) throw err
    throw openError(path, err)
  }
}
