import {readFileSync} from 'node:fs'
import {LineCounter, parseDocument, isMap, type Document} from 'yaml'
import type {z} from 'zod'
import {InputError} from '../errors.js'
import {crossFieldIssues} from './checks.js'
import {resolveProfile} from './defaults.js'
import {profileSchema, type Profile} from './schema.js'
import {didYouMean} from './suggest.js'

export const DEFAULT_PROFILE_FILE = 'ff-ha.yaml'

/** Read, parse and check a profile file. Throws InputError `file:line:col path: message` (exit 2). */
export function loadProfile(file: string): Profile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as {code?: string}).code
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : 'cannot read it'}`, 'create one with `ff-ha init`, or pass --profile')
  }
  return parseProfileText(text, file)
}

export function parseProfileText(text: string, file = DEFAULT_PROFILE_FILE): Profile {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const pos = lineCounter.linePos(e.pos[0])
    throw new InputError(`${file}:${pos.line}:${pos.col} ${e.message.split('\n')[0]}`, 'fix the YAML syntax')
  }
  const raw = doc.toJS()
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file}:1:1 the profile must be a YAML mapping (name: ..., mode: ...)`)
  }
  const where = (path: PropertyKey[]) => locate(doc, lineCounter, path)
  const parsed = profileSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const at = issue.code === 'unrecognized_keys' ? whereKey(doc, lineCounter, [...issue.path, issue.keys[0]]) : where(issue.path)
    throw new InputError(`${file}:${at} ${describeIssue(issue, valueAt(raw, issue.path))}`)
  }
  const profile = resolveProfile(parsed.data)
  const cross = crossFieldIssues(profile)
  if (cross.length > 0) {
    const issue = cross[0]
    throw new InputError(`${file}:${where(issue.path)} ${issue.path.join('.')}: ${issue.message}`)
  }
  return profile
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v = raw
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

function describeValue(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  return `${typeof v} ${JSON.stringify(v)}`
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]
    const full = [...issue.path.map(String), key].join('.')
    const known = knownKeys(issue.path)
    const guess = didYouMean(key, known)
    return `${full}: unknown key${guess ? ` (did you mean "${guess}"?)` : known.length ? ` (known: ${known.join(', ')})` : ''}`
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `${path}: must be one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`
  }
  if (issue.code === 'invalid_type') {
    if (value === undefined) return `${path}: is required`
    const expected = issue.expected === 'object' || issue.expected === 'record' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`
    return `${path}: must be ${expected}, not ${describeValue(value)}`
  }
  return `${path || '(top)'}: ${issue.message}`
}

/** The keys a strict object at `path` accepts, for the did-you-mean. */
function knownKeys(path: PropertyKey[]): string[] {
  let schema: unknown = profileSchema
  for (const key of path) {
    schema = unwrap(schema)
    const shape = (schema as {shape?: Record<string, unknown>}).shape
    if (!shape || typeof key !== 'string') return []
    schema = shape[key]
  }
  const shape = (unwrap(schema) as {shape?: Record<string, unknown>}).shape
  return shape ? Object.keys(shape) : []
}

function unwrap(schema: unknown): unknown {
  let s = schema as {def?: {innerType?: unknown; type?: string}}
  while (s?.def?.innerType) s = s.def.innerType as typeof s
  return s
}

/** `line:col` of the YAML node at `path`, or of its nearest existing parent (for missing keys). */
function locate(doc: Document, lineCounter: LineCounter, path: PropertyKey[]): string {
  const keys = path.map(k => (typeof k === 'symbol' ? String(k) : k))
  for (let n = keys.length; n >= 0; n--) {
    const sub = keys.slice(0, n)
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true)
    const range = (node as {range?: [number, number, number]} | undefined)?.range
    if (range) {
      // For a key that is there but wrong, point at its value; for an unknown key, point at the key itself.
      const offset = n < keys.length ? keyOffset(doc, sub, keys[n]) ?? range[0] : range[0]
      const pos = lineCounter.linePos(offset)
      return `${pos.line}:${pos.col}`
    }
  }
  return '1:1'
}

function whereKey(doc: Document, lineCounter: LineCounter, path: PropertyKey[]): string {
  const offset = keyOffset(doc, path.slice(0, -1), path[path.length - 1])
  if (offset === undefined) return locate(doc, lineCounter, path)
  const pos = lineCounter.linePos(offset)
  return `${pos.line}:${pos.col}`
}

function keyOffset(doc: Document, parentPath: PropertyKey[], key: PropertyKey): number | undefined {
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true)
  if (!isMap(parent)) return undefined
  for (const pair of parent.items) {
    const k = pair.key as {value?: unknown; range?: [number, number, number]}
    if (k?.value === key && k.range) return k.range[0]
  }
  return undefined
}
