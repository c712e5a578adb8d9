import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse} from 'yaml'
import {templatesDir} from '../paths.js'

/** A YAML template from templates/, parsed: the base that a renderer fills in (a fresh copy every call). */
export function yamlTemplate<T = Record<string, any>>(...path: string[]): T {
  return parse(readFileSync(join(templatesDir, ...path), 'utf8')) as T
}
