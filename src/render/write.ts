import {chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve, sep} from 'node:path'
import {InputError} from '../errors.js'
import {isGenerated} from './header.js'

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

/**
 * Write the plan atomically: build the new tree in a temporary directory beside the target (a copy of the
 * current one, so files ff-ha does not own, like .env, stay), then swap the directories with two renames.
 * A reader sees the old tree or the new one, never a mix; a crash leaves at worst a temporary directory.
 */
export function applyRender(plan: RenderPlan): void {
  if (!hasChanges(plan)) return
  const out = resolve(plan.outDir)
  const parent = dirname(out)
  mkdirSync(parent, {recursive: true})
  const tmp = mkdtempSync(join(parent, `.${basename(out)}.ff-ha-tmp-`))
  const old = `${tmp}.old`
  const existed = existsSync(out)
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
        writeFileSync(file, plan.files[path])
      }
    }
    if (existed) renameSync(out, old)
    renameSync(tmp, out)
  } catch (err) {
    if (existed && !existsSync(out) && existsSync(old)) renameSync(old, out)
    rmSync(tmp, {recursive: true, force: true})
    throw err
  } finally {
    rmSync(old, {recursive: true, force: true})
  }
}

/** Refuse output directories that a swap would break: the working directory, its parents, or one holding the profile. */
export function checkOutDir(outDir: string, profileFile: string, cwd = process.cwd()): void {
  const out = resolve(outDir)
  const inside = (child: string, dir: string) => child === dir || child.startsWith(dir.endsWith(sep) ? dir : dir + sep)
  if (inside(resolve(cwd), out)) {
    throw new InputError(`--out ${outDir}: must be a directory of its own, not the working directory or one of its parents`, 'use --out deploy (the default)')
  }
  if (inside(resolve(profileFile), out)) {
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
