import {chmodSync, closeSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve, sep} from 'node:path'
import {CheckFailedError, FfHaError, InputError} from '../errors.js'
import {isGenerated} from './header.js'
import {alive} from '../process/run.js'

export type FileStatus = 'added' | 'changed' | 'removed' | 'unchanged'

export interface RenderPlan {
  outDir: string
  /** Every rendered file and every stale generated file, sorted by path. */
  entries: {path: string; status: FileStatus}[]
  files: Record<string, string>
}

export function hasChanges(plan: RenderPlan): boolean {
  return plan.entries.some(e => e.status !== 'unchanged')
}

/** Compare the rendered files with the tree on disk. Reads only. */
export function planRender(outDir: string, files: Record<string, string>, options: {force?: boolean} = {}): RenderPlan {
  const entries: RenderPlan['entries'] = []
  for (const [path, content] of Object.entries(files)) {
    const file = join(outDir, path)
    if (!existsSync(file)) {
      entries.push({path, status: 'added'})
      continue
    }
    if (statSync(file).isDirectory()) throw new InputError(`${file} is a directory; ff-ha render writes a file there`, 'move it away')
    const current = readFileSync(file, 'utf8')
    if (current === content) entries.push({path, status: 'unchanged'})
    else if (isGenerated(current) || options.force) entries.push({path, status: 'changed'})
    else throw new InputError(`${file} exists and was not written by ff-ha render`, 'move it away, or pass --force to overwrite it')
  }
  for (const path of listFiles(outDir)) {
    if (!(path in files) && isGenerated(head(join(outDir, path)))) entries.push({path, status: 'removed'})
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return {outDir, entries, files}
}

export interface WriteOptions {
  /** Overwrite files at rendered paths that ff-ha did not write. */
  force?: boolean
  /** How long to wait for another render of the same directory to finish. */
  lockWaitMs?: number
}

export interface WriteResult extends RenderPlan {
  /** Set when an interrupted render was found and its previous tree restored (the path it was restored from). */
  recovered?: string
}

const DEFAULT_LOCK_WAIT_MS = 30_000

/**
 * Render into outDir: under a lock beside it (renders of one directory run one at a time), finish or undo an
 * interrupted render, compare, and swap the new tree in. Files ff-ha did not write (.env, notes) are carried
 * into the new tree; the previous tree is deleted only after the swap succeeded.
 */
export function writeRender(outDir: string, files: Record<string, string>, options: WriteOptions = {}): WriteResult {
  const out = resolveOutDir(outDir)
  return withFsErrors(outDir, () => {
    mkdirSync(dirname(out), {recursive: true})
    const release = acquireLock(out, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS)
    try {
      const recovered = recoverInterrupted(out)
      const plan = planRender(outDir, files, {force: options.force})
      applyRender(plan, out)
      return recovered ? {...plan, recovered} : plan
    } finally {
      release()
    }
  })
}

/** Compare only (render --check): waits out a render in progress, and fails on an interrupted one. */
export function checkRender(outDir: string, files: Record<string, string>, options: WriteOptions = {}): RenderPlan {
  const out = resolveOutDir(outDir)
  return withFsErrors(outDir, () => {
    waitForUnlock(out, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS)
    const left = leftovers(out)
    if (left.olds.length > 0) {
      throw new CheckFailedError(`${outDir}: a render was interrupted; the previous tree is in ${join(dirname(outDir), left.olds[0])}`, 'run `ff-ha render` to restore it and finish the render')
    }
    return planRender(outDir, files, {force: options.force})
  })
}

/**
 * The swap: build the new tree in a temporary directory beside the target (a copy of the current one, so files
 * ff-ha does not own stay), then two renames: out -> <tmp>.old, <tmp> -> out, then delete <tmp>.old. A reader
 * sees the old tree or the new one, never a mix. Which of <tmp> and <tmp>.old exist tells how far a killed
 * render got (recoverInterrupted); nothing is deleted that the next render could still need.
 */
function applyRender(plan: RenderPlan, out: string): void {
  if (!hasChanges(plan)) return
  const tmp = mkdtempSync(join(dirname(out), `${tmpPrefix(out)}`))
  const old = `${tmp}${OLD_SUFFIX}`
  const existed = existsSync(out)
  let swapped: boolean
  try {
    chmodSync(tmp, existed ? statSync(out).mode & 0o7777 : 0o755)
    if (existed) cpSync(out, tmp, {recursive: true, verbatimSymlinks: true, preserveTimestamps: true})
    for (const {path, status} of plan.entries) {
      const file = join(tmp, path)
      if (status === 'removed') {
        rmSync(file, {force: true})
        removeEmptyParents(tmp, dirname(file))
      } else if (status !== 'unchanged') {
        mkdirSync(dirname(file), {recursive: true})
        // A symlink at a rendered path becomes a file of the tree: writing through it would change a file
        // outside the output directory, before the swap and whatever happens to it.
        rmSync(file, {force: true})
        writeFileSync(file, plan.files[path])
      }
    }
    if (existed) renameSync(out, old)
    renameSync(tmp, out)
    swapped = true
  } catch (err) {
    // Put the previous tree back only where it was moved away by this render and nothing took its place.
    if (existed && !existsSync(out) && existsSync(old)) renameSync(old, out)
    rmSync(tmp, {recursive: true, force: true})
    throw err
  }
  if (swapped && existed) rmSync(old, {recursive: true, force: true})
}

const OLD_SUFFIX = '.old'
const tmpPrefix = (out: string) => `.${basename(out)}.ff-ha-tmp-`
const lockFile = (out: string) => join(dirname(out), `.${basename(out)}.ff-ha-lock`)

/** Temporary trees of earlier renders beside out: scratch copies, and previous trees moved aside. */
function leftovers(out: string): {tmps: string[]; olds: string[]} {
  const parent = dirname(out)
  if (!existsSync(parent)) return {tmps: [], olds: []}
  const prefix = tmpPrefix(out)
  const names = readdirSync(parent).filter(n => n.startsWith(prefix) && /^[A-Za-z0-9]{6}(\.old)?$/.test(n.slice(prefix.length))).sort()
  return {tmps: names.filter(n => !n.endsWith(OLD_SUFFIX)), olds: names.filter(n => n.endsWith(OLD_SUFFIX))}
}

/**
 * Finish what a killed render left (under the lock). <tmp>.old without <tmp>: the swap was done, the old tree
 * is garbage. <tmp>.old and no out: killed between the renames, put the old tree back. <tmp> alone: a scratch
 * copy never swapped in. <tmp>.old, <tmp> and an out: something made a new out since; refuse rather than guess.
 */
function recoverInterrupted(out: string): string | undefined {
  const parent = dirname(out)
  const {tmps, olds} = leftovers(out)
  let recovered: string | undefined
  for (const name of olds) {
    const old = join(parent, name)
    const tmp = old.slice(0, -OLD_SUFFIX.length)
    if (!existsSync(out)) {
      renameSync(old, out)
      recovered = old
    } else if (existsSync(tmp)) {
      throw new CheckFailedError(
        `${out}: a render was interrupted and ${out} was made again since; the previous tree is in ${old}`,
        `compare the two, keep the one you want as ${basename(out)}, delete the other and ${tmp}, then render again`,
      )
    } else {
      rmSync(old, {recursive: true, force: true})
    }
  }
  for (const name of tmps) rmSync(join(parent, name), {recursive: true, force: true})
  return recovered
}

/** --out as a real directory path: a symlink is followed (the swap happens at its target), a file is refused. */
export function resolveOutDir(outDir: string): string {
  let stat
  try {
    // Without a trailing slash: `deploy/` would follow a symlink named deploy and hide it.
    stat = lstatSync(outDir.replace(/(.)\/+$/, '$1'))
  } catch (err) {
    const code = (err as {code?: string}).code
    if (code === 'ENOENT') return resolve(outDir)
    if (code === 'ENOTDIR') throw new InputError(`--out ${outDir}: a part of the path is a file, not a directory`, 'pass a directory for the rendered files, e.g. --out deploy')
    throw fsInputError(outDir, err)
  }
  if (stat.isSymbolicLink()) {
    let real: string
    try {
      real = realpathSync(outDir)
    } catch {
      throw new InputError(`--out ${outDir}: is a symlink to nothing (${readlinkSync(outDir)})`, 'make the directory it points to, or pass another --out')
    }
    if (!statSync(real).isDirectory()) throw new InputError(`--out ${outDir}: is a symlink to ${real}, which is not a directory`, 'pass a directory for the rendered files, e.g. --out deploy')
    return real
  }
  if (!stat.isDirectory()) throw new InputError(`--out ${outDir}: is a file, not a directory`, 'pass a directory for the rendered files, e.g. --out deploy')
  return resolve(outDir)
}

// ---- the lock: one file beside out, created exclusively, holding the owner's pid and start time ----

function processStartTime(pid: number): string {
  try {
    // Field 22 of /proc/<pid>/stat, after the command name in parentheses (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

/** Whether the process that wrote a lock still runs (a pid reused by another process does not count). */
function lockHolderAlive(content: string): boolean {
  const [pidText, start] = content.trim().split(' ')
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (!alive(pid)) return false
  return !start || processStartTime(pid) === '' || processStartTime(pid) === start
}

function readLock(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function acquireLock(out: string, waitMs: number): () => void {
  const file = lockFile(out)
  const me = `${process.pid} ${processStartTime(process.pid)}\n`
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      writeFileSync(file, me, {flag: 'wx'})
      return () => {
        if (readLock(file) === me) rmSync(file, {force: true})
      }
    } catch (err) {
      if ((err as {code?: string}).code !== 'EEXIST') throw err
    }
    const holder = readLock(file)
    if (holder === undefined) continue
    if (!lockHolderAlive(holder)) {
      // A render that was killed: its lock is stale. Remove it only if it is still that same lock.
      if (readLock(file) === holder) rmSync(file, {force: true})
      continue
    }
    if (Date.now() >= deadline) throw lockedError(out, file, holder)
    sleepMs(50)
  }
}

function waitForUnlock(out: string, waitMs: number): void {
  const file = lockFile(out)
  const deadline = Date.now() + waitMs
  for (;;) {
    const holder = readLock(file)
    if (holder === undefined || !lockHolderAlive(holder)) return
    if (Date.now() >= deadline) throw lockedError(out, file, holder)
    sleepMs(50)
  }
}

function lockedError(out: string, file: string, holder: string): CheckFailedError {
  return new CheckFailedError(`${out}: another ff-ha render (pid ${holder.trim().split(' ')[0]}) is writing it`, `wait for it to finish and run again; if no render runs, delete ${file}`)
}

// ---- file-system errors: the user's directory, said in one line ----

const INPUT_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (an immutable directory? see lsattr)',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a directory',
  ENAMETOOLONG: 'a file name is too long',
  ELOOP: 'too many symlinks',
  EEXIST: 'a file is in the way',
  EBUSY: 'the directory is in use or a mount point (render replaces it as a whole: render into a directory inside it)',
  EXDEV: 'the directory is a mount point (render replaces it as a whole: render into a directory inside it)',
}

function fsInputError(outDir: string, err: unknown): InputError {
  const e = err as {code?: string; path?: string}
  const where = e.path ? ` (${e.path})` : ''
  return new InputError(`--out ${outDir}: cannot write there: ${INPUT_CODES[e.code ?? ''] ?? e.code}${where}`, 'render into a directory you can write (--out), or fix the permissions of this one')
}

function withFsErrors<T>(outDir: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    const code = (err as {code?: string}).code
    if (err instanceof FfHaError || !code) throw err
    if (code in INPUT_CODES) throw fsInputError(outDir, err)
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new CheckFailedError(`--out ${outDir}: no space left on the device; nothing was changed`, 'free some space and render again')
    throw err
  }
}

/** Refuse output directories that a swap would break: the working directory, its parents, or one holding the profile. */
export function checkOutDir(outDir: string, profileFile: string, cwd = process.cwd()): void {
  const out = resolveOutDir(outDir)
  const real = (p: string) => {
    try {
      return realpathSync(p)
    } catch {
      return resolve(p)
    }
  }
  const inside = (child: string, dir: string) => child === dir || child.startsWith(dir.endsWith(sep) ? dir : dir + sep)
  if (inside(real(cwd), out)) {
    throw new InputError(`--out ${outDir}: must be a directory of its own, not the working directory or one of its parents`, 'use --out deploy (the default)')
  }
  if (inside(real(profileFile), out)) {
    throw new InputError(`--out ${outDir}: holds the profile ${profileFile}; render replaces that directory as a whole`, 'keep ff-ha.yaml outside the output directory')
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
  }
  return out.sort()
}

/** The first bytes of a file: enough to see the generated-by header without reading a large file. */
function head(file: string): string {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(512)
    const n = readSync(fd, buf, 0, buf.length, 0)
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

function removeEmptyParents(root: string, dir: string): void {
  while (dir !== root && dir.startsWith(root) && readdirSync(dir).length === 0) {
    rmdirSync(dir)
    dir = dirname(dir)
  }
}
