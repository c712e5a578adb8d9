'use strict'
// Keys and values: how a Node-RED context key ("a.b[0]") maps to a stored row, and the pure functions
// that compute a row's next value. Rows hold one top-level key each ("a"), as JSON text; a nested key
// is a read-modify-write of its top-level row done inside the backend's transaction, so two writers
// of different parts of one object do not overwrite each other.
const {isDeepStrictEqual} = require('node:util')
const {util} = require('@node-red/util')
const {AtomicTypeError} = require('./errors')

/** Split a context key into its top-level row key and whether it reaches below it. */
function splitKey(key) {
  const parts = util.normalisePropertyExpression(key)
  return {top: String(parts[0]), nested: parts.length > 1}
}

function decode(json) {
  return json === null || json === undefined ? undefined : JSON.parse(json)
}

function encode(value) {
  if (value === undefined) return null
  const json = JSON.stringify(value)
  // JSON.stringify of a function or a symbol is undefined: store nothing rather than a broken row.
  return json === undefined ? null : json
}

/** Read `key` given the JSON text of its top-level row. */
function readPath(topJson, key) {
  const {top, nested} = splitKey(key)
  const value = decode(topJson)
  if (!nested) return value
  if (value === undefined) return undefined
  try {
    return util.getObjectProperty({[top]: value}, key)
  } catch (err) {
    if (err.code === 'INVALID_EXPR') throw err
    return undefined
  }
}

/** The next JSON text of the top-level row after `set(key, value)`, given its current JSON text. */
function writePath(topJson, key, value) {
  const {top, nested} = splitKey(key)
  if (!nested) return encode(value)
  const holder = {}
  const current = decode(topJson)
  if (current !== undefined) holder[top] = current
  util.setObjectProperty(holder, key, value)
  return encode(holder[top])
}

/**
 * The atomic operations, as functions of the current value at the key: each returns {next, result}.
 * They run inside the backend's write transaction, so the read and the write are one step.
 */
const operations = {
  increment(current, {by = 1} = {}) {
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new AtomicTypeError(`increment by ${JSON.stringify(by)}: not a finite number`)
    if (current !== undefined && (typeof current !== 'number' || !Number.isFinite(current))) {
      throw new AtomicTypeError(`cannot increment a ${Array.isArray(current) ? 'array' : typeof current} value`)
    }
    const next = (current ?? 0) + by
    return {next, result: next}
  },
  compareAndSet(current, {expected, value}) {
    // undefined expected means "the key is absent"
    const ok = expected === undefined ? current === undefined : isDeepStrictEqual(current, expected)
    return ok ? {next: value, result: {ok: true, value}} : {next: current, result: {ok: false, value: current}, unchanged: true}
  },
  append(current, {value}) {
    if (current !== undefined && !Array.isArray(current)) throw new AtomicTypeError(`cannot append to a ${typeof current} value (not an array)`)
    const next = [...(current ?? []), value]
    return {next, result: next.length}
  },
}

/** Run an atomic operation on the path `key` inside the top-level row's JSON text. */
function applyOperation(topJson, key, op, args) {
  const fn = operations[op]
  if (!fn) throw new AtomicTypeError(`unknown operation "${op}" (increment, compareAndSet, append)`)
  const out = fn(readPath(topJson, key), args)
  if (out.unchanged) return {json: topJson, result: out.result, changed: false}
  return {json: writePath(topJson, key, out.next), result: out.result, changed: true}
}

module.exports = {splitKey, decode, encode, readPath, writePath, applyOperation, operations}
