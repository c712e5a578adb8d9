import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse} from 'yaml'
import {templatesDir} from '../paths.js'

// Templates do not change while ff-ha runs: each is read and parsed once (a render reads about ten; the
// profile fuzz and the table tests render thousands of times).
const parsed = new Map<string, unknown>()

/** A YAML template from templates/, parsed: the base that a renderer fills in (a fresh copy every call). */
export function yamlTemplate<T = Record<string, any>>(...path: string[]): T {
  const file = join(templatesDir, ...path)
  if (!parsed.has(file)) parsed.set(file, parse(readFileSync(file, 'utf8')))
  return structuredClone(parsed.get(file)) as T
}
