// File arguments: literal paths pass through (a missing one is reported when read); patterns with * ? [ {
// are expanded here, so that quoted globs work the same on every shell. `**` spans directories.
import {readdirSync} from 'node:fs'
import {join, sep} from 'node:path'
import {InputError} from '../errors.js'

const MAGIC = /[*?[{]/

export function expandFileArgs(args: string[], cwd = process.cwd()): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  for (const arg of args) {
    if (arg === '-' || !MAGIC.test(arg)) {
      if (!seen.has(arg)) out.push(arg)
      seen.add(arg)
      continue
    }
    const matches = expandGlob(arg, cwd)
    if (matches.length === 0) throw new InputError(`${arg}: no files match this pattern`, 'check the pattern, or quote it so that the shell does not expand it')
    for (const m of matches) if (!seen.has(m)) out.push(m), seen.add(m)
  }
  return out
}

export function expandGlob(pattern: string, cwd: string): string[] {
  const parts = pattern.split(/[\\/]/)
  const absolute = pattern.startsWith('/')
  // The literal leading directories are the walk's root.
  let i = 0
  while (i < parts.length - 1 && !MAGIC.test(parts[i])) i++
  const baseParts = parts.slice(0, i)
  const base = absolute ? '/' + baseParts.filter(Boolean).join('/') : baseParts.join('/')
  const re = globToRegExp(parts.slice(i).join('/'), pattern)
  const results: string[] = []
  const walk = (rel: string) => {
    let entries
    try {
      entries = readdirSync(join(absolute ? base : join(cwd, base), rel), {withFileTypes: true})
    } catch {
      return
    }
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue
        walk(child)
      } else if (re.test(child)) results.push(base ? join(base, child) : child.split('/').join(sep))
    }
  }
  walk('')
  return results.sort()
}

export function globToRegExp(glob: string, pattern = glob): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a bare `**` anything.
        if (glob[i + 2] === '/') (re += '(?:[^/]*/)*'), (i += 2)
        else (re += '.*'), (i += 1)
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) re += '\\['
      else (re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`), (i = end)
    } else if (c === '{') {
      const end = glob.indexOf('}', i + 1)
      if (end === -1) re += '\\{'
      else (re += `(?:${glob.slice(i + 1, end).split(',').map(escape).join('|')})`), (i = end)
    } else re += escape(c)
  }
  try {
    return new RegExp(`^${re}$`)
  } catch {
    // A character class such as [z-a] (range out of order) is no pattern; say which part, as the shell would.
    const bad = /\[[^\]]*\]/.exec(glob)?.[0]
    throw new InputError(`${pattern}: not a valid pattern${bad ? ` (the character class ${bad})` : ''}`, 'in [a-z] the first character of a range must come first; quote a literal [ as [[]')
  }
}

function escape(s: string): string {
  return s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')
}
