import {closeSync, openSync} from 'node:fs'
import {LineCounter, parseDocument, isMap, isScalar, visit, type Document} from 'yaml'
import type {z} from 'zod'
import {errorMessage, InputError} from '../errors.js'
import {readCapped} from '../io/read-capped.js'
import {crossFieldIssues} from './checks.js'
import {resolveProfile} from './defaults.js'
import {profileSchema, type Profile} from './schema.js'
import {didYouMean} from './suggest.js'

export const DEFAULT_PROFILE_FILE = 'ff-ha.yaml'

/** A profile is a few kilobytes; anything past this is not one (and /dev/zero never ends). */
export const MAX_PROFILE_BYTES = 1024 * 1024

// Anchors and aliases are YAML, and a profile may use them (one resources block for requests and limits),
// but an alias bomb expands to gigabytes: the yaml library counts and stops it; we say so at the alias.
const MAX_ALIAS_COUNT = 100

const REFERENCE_HINT = 'see the profile reference in schemas/ff-ha.schema.json, or run `ff-ha init` in an empty directory for a commented example'

/** Read, parse and check a profile file. Throws InputError `file:line:col path: message` with a hint (exit 2). */
export function loadProfile(file: string): Profile {
  return parseProfileText(readProfileText(file), file)
}

/** The profile file's text, read up to MAX_PROFILE_BYTES (a device or a huge file is refused, not read whole). */
export function readProfileText(file: string): string {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (err) {
    throw readError(file, err)
  }
  try {
    return readCapped(fd, MAX_PROFILE_BYTES, () => new InputError(`${file}: is larger than ${MAX_PROFILE_BYTES / 1024} KiB: not a profile`, 'pass the ff-ha.yaml that `ff-ha init` wrote (--profile)'))
  } catch (err) {
    if (err instanceof InputError) throw err
    throw readError(file, err)
  } finally {
    closeSync(fd)
  }
}

function readError(file: string, err: unknown): InputError {
  const code = (err as {code?: string}).code
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a profile' : code === 'EACCES' || code === 'EPERM' ? 'cannot read it: permission denied' : `cannot read it (${code ?? errorMessage(err)})`
  return new InputError(`${file}: ${why}`, 'create one with `ff-ha init`, or pass --profile')
}

export function parseProfileText(text: string, file = DEFAULT_PROFILE_FILE): Profile {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset)
    return `${file}:${pos.line}:${pos.col}`
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    throw new InputError(`${at(e.pos[0])} ${e.message.split('\n')[0]}`, e.code === 'DUPLICATE_KEY' ? 'remove one of the two keys' : 'fix the YAML syntax (indentation with spaces, "key: value", quotes around values with ": " or "#")')
  }
  const raw = toPlainData(doc, at)
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file}:1:1 the profile must be a YAML mapping (name: ..., mode: ...)`, 'start with a line like "name: my-app"; `ff-ha init` writes a complete profile')
  }
  const where = (path: PropertyKey[]) => locate(doc, lineCounter, path)
  const parsed = profileSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const pos = issue.code === 'unrecognized_keys' ? whereKey(doc, lineCounter, [...issue.path, issue.keys[0]]) : where(issue.path)
    const {message, hint} = describeIssue(issue, valueAt(raw, issue.path), sourceAt(doc, issue.path))
    throw new InputError(`${file}:${pos} ${message}`, hint)
  }
  const profile = resolveProfile(parsed.data)
  const cross = crossFieldIssues(profile)
  if (cross.length > 0) {
    const issue = cross[0]
    // A rule about a field left to its default points at the field the user wrote, and says the default.
    const keys = (path: (string | number)[]) => path.map(String)
    if (!doc.hasIn(keys(issue.path)) && issue.related && doc.hasIn(keys(issue.related))) {
      const value = valueAt(profile, issue.path)
      throw new InputError(`${file}:${where(issue.related)} ${issue.path.join('.')}: ${issue.message} (${String(issue.path.at(-1))} is not set: its default is ${String(value)})`, issue.hint)
    }
    throw new InputError(`${file}:${where(issue.path)} ${issue.path.join('.')}: ${issue.message}`, issue.hint)
  }
  return profile
}

/** The document as plain data; alias and key errors point at the alias or the key. */
function toPlainData(doc: Document, at: (offset: number) => string): unknown {
  let problem: {offset: number; message: string; hint: string} | undefined
  visit(doc, {
    Alias(_, node) {
      if (!problem && node.range && node.resolve(doc) === undefined) {
        problem = {offset: node.range[0], message: `unresolved alias *${node.source}: no anchor &${node.source} before it`, hint: `define &${node.source} on a value above this line, or write the value out`}
      }
    },
    Pair(_, pair) {
      const key = pair.key as {value?: unknown; range?: [number, number, number]} | null
      if (!problem && key?.value === '__proto__' && key.range) {
        problem = {offset: key.range[0], message: '__proto__: is not a valid key', hint: 'remove it'}
      }
    },
  })
  if (problem) throw new InputError(`${at(problem.offset)} ${problem.message}`, problem.hint)
  try {
    return doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
  } catch (err) {
    let first = 0
    visit(doc, {
      Alias(_, node) {
        first = node.range?.[0] ?? 0
        return visit.BREAK
      },
    })
    if (/alias/i.test(errorMessage(err))) {
      throw new InputError(`${at(first)} too many aliases: the anchors and aliases expand past ${MAX_ALIAS_COUNT} values (an alias bomb?)`, 'write the values out, or use fewer nested aliases')
    }
    throw new InputError(`${at(first)} cannot read the YAML: ${errorMessage(err).split('\n')[0]}`, 'fix the YAML syntax')
  }
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v = raw
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

function describeValue(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (ArrayBuffer.isView(v)) return 'binary data'
  if (v instanceof Date) return 'a date'
  if (v instanceof Set) return 'a set'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'number' && !Number.isFinite(v)) return `number ${v}`
  return `${typeof v} ${quote(v)}`
}

/** A value quoted for a one-line message: JSON-escaped (U+2028/2029 too) and cut to 60 characters. */
function quote(v: unknown): string {
  const json = (JSON.stringify(v) ?? String(v)).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
  return json.length > 60 ? `${json.slice(0, 57)}...` : json
}

// Example values for the hint, where the field has no default to show.
const EXAMPLES: Record<string, string> = {
  name: 'orders',
  'nodeRed.image': 'registry.example.com/team/node-red:4.1.8',
  'failover.witness': 'haproxy:1880',
  'failover.etcd.endpoints': '[http://10.0.0.5:2379, http://10.0.0.6:2379, http://10.0.0.7:2379]',
  'failover.etcd.endpoints.*': 'http://10.0.0.5:2379',
  'failover.etcd.usernameEnv': 'ETCD_USERNAME',
  'failover.etcd.passwordEnv': 'ETCD_PASSWORD',
  'failover.etcd.tls.caFile': '/etc/ff-ha/etcd/ca.crt',
  'failover.etcd.tls.certFile': '/etc/ff-ha/etcd/client.crt',
  'failover.etcd.tls.keyFile': '/etc/ff-ha/etcd/client.key',
  'failover.leaseDurationMs': '2000',
  'failover.renewDeadlineMs': '1500',
  'failover.retryPeriodMs': '200',
  'failover.healthIntervalMs': '250',
  'failover.healthTimeoutMs': '200',
  'failover.healthFailureThreshold': '3',
  'mqtt.broker': 'mqtt://broker:1883',
  'mqtt.shareGroup': 'orders',
  'kubernetes.ingress.host': 'node-red.example.com',
  'kubernetes.ingress.className': 'nginx',
  'kubernetes.ingress.tlsSecret': 'node-red-tls',
  'kubernetes.storageClass': 'standard',
  'kubernetes.resources.requests.cpu': '100m',
  'kubernetes.resources.requests.memory': '256Mi',
  'kubernetes.resources.limits.cpu': '"1"',
  'kubernetes.resources.limits.memory': '512Mi',
  'compose.project': 'orders',
  'compose.ports.stats': '8404',
  'secrets.kubernetesSecret': 'orders-secrets',
  'deploy.replicas': '[{name: node-red-0, url: "http://10.0.0.5:1880"}]',
  'deploy.replicas.*.name': 'node-red-0',
  'deploy.replicas.*.url': 'http://10.0.0.5:1880',
  'deploy.replicas.*.agentUrl': 'http://10.0.0.5:9880',
}

/** `key: value` for the hint: an example, else the field's default, else nothing. */
function example(path: PropertyKey[]): string | undefined {
  const key = path.map(k => (typeof k === 'number' ? '*' : String(k))).join('.')
  const last = String(path[path.length - 1] ?? '')
  // A list item is written as one: "- value", not "0: value".
  if (EXAMPLES[key]) return typeof path[path.length - 1] === 'number' ? `- ${EXAMPLES[key]}` : `${last}: ${EXAMPLES[key]}`
  const value = defaultAt(path)
  if (value === undefined || (typeof value === 'object' && value !== null)) return undefined
  return `${last}: ${typeof value === 'string' && /^[\w./-]+$/.test(value) ? value : JSON.stringify(value)}`
}

function exampleHint(path: PropertyKey[]): string {
  const e = example(path)
  return e ? `for example: ${e}` : REFERENCE_HINT
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, source: string | undefined): {message: string; hint: string} {
  const path = issue.path.map(String).join('.') || '(top)'
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]
    const full = [...issue.path.map(String), key].join('.')
    const known = knownKeys(issue.path)
    const guess = didYouMean(key, known)
    return {
      message: `${full}: unknown key${guess ? ` (did you mean "${guess}"?)` : known.length ? ` (known: ${known.join(', ')})` : ''}`,
      hint: guess ? `rename it to "${guess}"` : 'remove it, or check its indentation: it may belong to another section',
    }
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    const last = String(issue.path[issue.path.length - 1] ?? '')
    return {message: `${path}: must be one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`, hint: `for example: ${last}: ${String(issue.values[0])}`}
  }
  if (issue.code === 'invalid_type') {
    if (value === undefined) {
      const e = example(issue.path)
      return {message: `${path}: is required`, hint: e ? `add "${e}"` : REFERENCE_HINT}
    }
    if (issue.expected === 'number' && typeof value === 'number') {
      return {message: `${path}: ${source ?? String(value)} is not a finite number`, hint: exampleHint(issue.path)}
    }
    return {message: `${path}: must be ${expectedName(issue.expected)}, not ${describeValue(value)}`, hint: exampleHint(issue.path)}
  }
  if (issue.code === 'invalid_union') {
    const expected = [...new Set(issue.errors.flatMap(branch => branch.filter(i => i.code === 'invalid_type').map(i => expectedName((i as {expected: string}).expected))))]
    const json = ['a string', 'a number', 'a boolean', 'null'].every(e => expected.includes(e))
    if (json) return {message: `${path}: must be JSON data (text, a number, true/false, null, a list or a mapping), not ${describeValue(value)}`, hint: 'Node-RED settings here are JSON values: write it as text or a number, without YAML tags like !!binary'}
    const what = expected.length ? expected.join(' or ') : 'another kind of value'
    return {message: `${path}: must be ${what}, not ${describeValue(value)}`, hint: exampleHint(issue.path)}
  }
  if (issue.code === 'too_big' && issue.maximum === Number.MAX_SAFE_INTEGER) {
    return {message: `${path}: ${source ?? String(value)} is too large`, hint: exampleHint(issue.path)}
  }
  if ((issue.code === 'too_big' || issue.code === 'too_small') && /^Too (big|small)/.test(issue.message)) {
    const bound = issue.code === 'too_big' ? `at most ${String(issue.maximum)}` : `at least ${String(issue.minimum)}`
    const unit = issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''
    return {message: `${path}: must be ${bound}${unit}`, hint: exampleHint(issue.path)}
  }
  return {message: `${path}: ${issue.message}`, hint: exampleHint(issue.path)}
}

function expectedName(expected: string): string {
  if (expected === 'object' || expected === 'record' || expected === 'map') return 'a mapping'
  if (expected === 'array' || expected === 'tuple') return 'a list'
  if (expected === 'int') return 'a whole number'
  return expected === 'null' ? 'null' : `a ${expected}`
}

/** The scalar's text as written (1e400, .nan), for messages about values that JavaScript cannot hold. */
function sourceAt(doc: Document, path: PropertyKey[]): string | undefined {
  const node = path.length ? doc.getIn(path.map(k => (typeof k === 'symbol' ? String(k) : k)), true) : undefined
  return isScalar(node) && typeof node.source === 'string' ? node.source : undefined
}

/** The schema's default at `path`, if any. */
function defaultAt(path: PropertyKey[]): unknown {
  let schema: unknown = profileSchema
  for (const key of path) {
    const inner = unwrap(schema) as {shape?: Record<string, unknown>; def?: {type?: string; element?: unknown; valueType?: unknown}}
    if (inner.shape && typeof key === 'string') schema = inner.shape[key]
    else if (inner.def?.type === 'array') schema = inner.def.element
    else if (inner.def?.type === 'record') schema = inner.def.valueType
    else return undefined
  }
  let s = schema as {def?: {type?: string; innerType?: unknown; defaultValue?: unknown}} | undefined
  while (s?.def) {
    if (s.def.type === 'default') return s.def.defaultValue
    if (!s.def.innerType) return undefined
    s = s.def.innerType as typeof s
  }
  return undefined
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
