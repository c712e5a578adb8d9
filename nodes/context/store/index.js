'use strict'
// ff-ha's shared context store: a Node-RED context store plugin (settings.js contextStorage) whose data
// every replica shares, with fenced writes and atomic operations. See docs/design/shared-context.md.
//
//   contextStorage: {
//     default: 'shared',
//     shared: {module: require('<ff-ha>/nodes/context/store'), config: {backend: 'sqlite', path: '/data/shared/context.db'}},
//   }
//
// Node-RED's contract (node_modules/@node-red/runtime/lib/nodes/context/index.js): the module is a factory
// called with `config`; the store has open/close/delete/clean returning promises, and get/set/keys that
// are synchronous when called without a callback (flow.get('x')) and call back otherwise.
const {splitKey, readPath, writePath, applyOperation} = require('./value')
const {tokenProvider} = require('./token')
const {ConfigError} = require('./errors')

/** The reserved key that returns the atomic-operations handle bound to the scope: flow.get('$atomic'). */
const ATOMIC_KEY = '$atomic'

const defaultLog = {
  error: message => console.error(`[ff-ha shared context] ${message}`),
}

/** Call a Node-RED callback once with a promise's outcome, outside the promise chain (its throw is its own). */
function settle(promise, callback, args) {
  promise.then(
    value => process.nextTick(() => callback(...args(value))),
    err => process.nextTick(() => callback(err)),
  )
}

class SharedContextStore {
  constructor(config = {}) {
    this.config = config
    this.log = config.log ?? defaultLog
    const token = tokenProvider(config)
    if (config.backend === 'sqlite') {
      const {SqliteBackend} = require('./sqlite')
      this.backend = new SqliteBackend(config, token)
    } else if (config.backend === 'postgres') {
      const {PostgresBackend} = require('./postgres')
      this.backend = new PostgresBackend(config, token, this.log)
    } else {
      throw new ConfigError(`config.backend must be "sqlite" or "postgres", not ${JSON.stringify(config.backend)}`)
    }
  }

  async open() {
    await this.backend.open()
  }

  async close() {
    await this.backend.close()
  }

  get(scope, key, callback) {
    const keys = Array.isArray(key) ? key : [key]
    if (!callback) {
      const values = keys.map(k => this.getOne(scope, k))
      return Array.isArray(key) ? values : values[0]
    }
    const reads = Promise.all(
      keys.map(async k => (k === ATOMIC_KEY ? this.atomic(scope) : readPath(await this.backend.readAsync(scope, splitKey(k).top), k))),
    )
    settle(reads, callback, values => [undefined, ...values])
  }

  getOne(scope, key) {
    if (key === ATOMIC_KEY) return this.atomic(scope)
    return readPath(this.backend.readSync(scope, splitKey(key).top), key)
  }

  set(scope, key, value, callback) {
    let keys = key
    let values = value
    if (!Array.isArray(key)) {
      keys = [key]
      values = [value]
    } else if (!Array.isArray(value)) {
      values = [value]
    }
    const writes = keys.map((k, i) => ({key: k, value: i < values.length ? values[i] : null}))
    for (const w of writes) {
      if (w.key === ATOMIC_KEY) {
        const err = new ConfigError(`"${ATOMIC_KEY}" is reserved for the atomic operations; it cannot be set`)
        if (callback) return callback(err)
        throw err
      }
    }
    if (this.backend.sync) {
      // sqlite: the write is done (or refused) before set returns, so a plain flow.set throws to its caller
      try {
        for (const w of writes) this.backend.write(scope, splitKey(w.key).top, json => ({json: writePath(json, w.key, w.value), changed: true}))
      } catch (err) {
        if (callback) return callback(err)
        throw err
      }
      if (callback) callback(null)
      return
    }
    const done = Promise.all(
      writes.map(w => {
        const top = splitKey(w.key).top
        const undo = this.backend.optimistic(scope, top, writePath(this.backend.readSync(scope, top), w.key, w.value))
        return this.backend.write(scope, top, json => ({json: writePath(json, w.key, w.value), changed: true})).catch(err => {
          // the write did not happen: never leave its value in this replica's reads
          undo()
          this.backend.refresh(scope, top).catch(() => {})
          throw err
        })
      }),
    )
    if (callback) return settle(done, callback, () => [null])
    // A plain flow.set has nobody to hand the error to: log it where the operator looks, loudly.
    done.catch(err => this.log.error(`write of ${JSON.stringify(keys)} in ${scope} failed: ${err.message}`))
  }

  keys(scope, callback) {
    let keys
    try {
      keys = this.backend.keysSync(scope)
    } catch (err) {
      if (callback) return callback(err)
      throw err
    }
    if (callback) return callback(null, keys)
    return keys
  }

  async delete(scope) {
    await this.backend.deleteScope(scope)
  }

  async clean(activeNodes) {
    for (const scope of this.backend.scopes()) {
      if (scope === 'global') continue
      if (!activeNodes.includes(scope.split(':')[0])) await this.backend.deleteScope(scope)
    }
  }

  /** Run an atomic operation on `key` in `scope`: a promise of its result (the same on both backends). */
  async operate(scope, key, op, args) {
    if (typeof key !== 'string' || !key || key === ATOMIC_KEY) throw new ConfigError(`atomic ${op}: invalid key ${JSON.stringify(key)}`)
    const top = splitKey(key).top
    const out = await this.backend.write(scope, top, json => applyOperation(json, key, op, args))
    return out.result
  }

  /** The handle flow.get('$atomic') returns: atomic operations bound to this scope. */
  atomic(scope) {
    return {
      scope,
      increment: (key, by = 1) => this.operate(scope, key, 'increment', {by}),
      compareAndSet: (key, expected, value) => this.operate(scope, key, 'compareAndSet', {expected, value}),
      append: (key, value) => this.operate(scope, key, 'append', {value}),
      // how many writes the fence refused (this store's fence domain): the proof that a stale writer was stopped
      refusals: async () => this.backend.refusals(),
    }
  }

  /** Raise the fence to `token` without writing a value: a new lease holder calls this at takeover. */
  async fence(token) {
    await this.backend.fence(BigInt(token))
  }
}

function createSharedContextStore(config) {
  return new SharedContextStore(config)
}

/**
 * Raise the fence of config's store to `token`, from outside Node-RED: ff-ha's agent calls this when it takes
 * the lease, before it starts the flows, so that an old holder that wakes up is refused even before the new
 * one writes anything. Opens one connection, raises, closes. Rejects with FencedWriteError when the fence is
 * already higher (a newer holder exists).
 */
async function raiseFence(config, token) {
  const store = new SharedContextStore({...config, token: undefined, tokenFile: undefined})
  await store.backend.openForFence()
  try {
    await store.fence(token)
  } finally {
    await store.backend.close()
  }
}
createSharedContextStore.toString = () => 'ff-ha shared context'

module.exports = createSharedContextStore
module.exports.SharedContextStore = SharedContextStore
module.exports.ATOMIC_KEY = ATOMIC_KEY
module.exports.raiseFence = raiseFence
