// File arguments: literal paths pass through (a missing one is reported when read); patterns with * ? [ {
// are expanded here (tinyglobby), so that quoted globs work the same on every shell. `**` spans directories;
// node_modules and dot directories are not entered.
import {createRequire} from 'node:module'
import {InputError} from '../errors.js'

// Loaded on first use (~20 ms): most runs name their files literally.
const require = createRequire(import.meta.url)

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
  checkCharacterClasses(pattern)
  const {globSync} = require('tinyglobby') as typeof import('tinyglobby')
  const matches = globSync(pattern, {cwd, absolute: pattern.startsWith('/'), ignore: ['**/node_modules/**'], expandDirectories: false})
  // The ignore pattern does not reach above the working directory (`../**`); a segment check does.
  const wanted = pattern.includes('node_modules') ? matches : matches.filter(m => !m.split('/').includes('node_modules'))
  return wanted.sort()
}

// tinyglobby matches nothing for a class such as [z-a] (range out of order); that is no pattern, so say which
// part, as the shell would.
function checkCharacterClasses(pattern: string): void {
  for (const [bad, body] of pattern.matchAll(/\[!?([^\]]*)\]/g)) {
    try {
      new RegExp(`[${body.replace(/\\/g, '\\\\')}]`)
    } catch {
      throw new InputError(`${pattern}: not a valid pattern (the character class ${bad})`, 'in [a-z] the first character of a range must come first; quote a literal [ as [[]')
    }
  }
}
