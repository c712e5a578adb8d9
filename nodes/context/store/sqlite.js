'use strict'
// The sqlite backend: one file on a volume every replica of one host mounts (WAL mode).
//
// Reads are synchronous and always current: better-sqlite3 is synchronous, and a cache of rows is
// kept only while `PRAGMA data_version` (sqlite's counter of commits by *other* connections) is
// unchanged, so a read after another replica's commit goes to the file. Writes are synchronous too, in
// a BEGIN IMMEDIATE transaction that checks the fence, reads the row, computes and writes it: a
// refused or failed write throws to the caller (a function node's flow.set), never lost quietly.
const {mkdirSync} = require('node:fs')
const {dirname} = require('node:path')
const Database = require('better-sqlite3')
const {ConfigError, FencedWriteError} = require('./errors')

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ffha_context (scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ffha_fence (domain TEXT PRIMARY KEY, token INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ffha_refused (domain TEXT PRIMARY KEY, count INTEGER NOT NULL, token INTEGER NOT NULL) WITHOUT ROWID;
`

class SqliteBackend {
  constructor(config, token) {
    if (typeof config.path !== 'string' || !config.path) throw new ConfigError('backend "sqlite" needs config.path (the database file on the shared volume)')
    this.path = config.path
    this.token = token
    this.domain = config.fenceDomain ?? 'default'
    this.sync = true
    this.cache = new Map() // scope -> Map(top -> json | null)
    this.seenVersion = null
  }

  open() {
    try {
      mkdirSync(dirname(this.path), {recursive: true})
      this.db = new Database(this.path)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('busy_timeout = 10000')
      this.db.pragma('synchronous = NORMAL')
      this.db.exec(SCHEMA)
    } catch (err) {
      throw new ConfigError(`cannot open sqlite database ${this.path}: ${err.code || ''} ${err.message}`.replace(/\s+/g, ' '))
    }
    const db = this.db
    this.q = {
      version: db.prepare('PRAGMA data_version').pluck(),
      read: db.prepare('SELECT value FROM ffha_context WHERE scope = ? AND key = ?').pluck(),
      keys: db.prepare('SELECT key FROM ffha_context WHERE scope = ? ORDER BY key').pluck(),
      upsert: db.prepare('INSERT INTO ffha_context (scope, key, value) VALUES (?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value'),
      remove: db.prepare('DELETE FROM ffha_context WHERE scope = ? AND key = ?'),
      removeScope: db.prepare('DELETE FROM ffha_context WHERE scope = ?'),
      scopes: db.prepare('SELECT DISTINCT scope FROM ffha_context').pluck(),
      refused: db.prepare('INSERT INTO ffha_refused (domain, count, token) VALUES (?, 1, ?) ON CONFLICT (domain) DO UPDATE SET count = count + 1, token = excluded.token'),
      refusals: db.prepare('SELECT count, token FROM ffha_refused WHERE domain = ?').safeIntegers(false),
      fence: db.prepare('INSERT INTO ffha_fence (domain, token) VALUES (?, ?) ON CONFLICT (domain) DO UPDATE SET token = max(token, excluded.token) RETURNING token').pluck().safeIntegers(true),
    }
    // BEGIN IMMEDIATE takes the write lock first, so the fence check, the read and the write see one state.
    this.fencedTx = db.transaction(fn => {
      this.checkFence()
      return fn()
    })
  }

  openForFence() {
    this.open()
  }

  close() {
    if (this.db) this.db.close()
    this.db = null
  }

  /** Drop the cache when another connection has committed since we last looked. */
  fresh() {
    const v = this.q.version.get()
    if (v !== this.seenVersion) {
      this.cache.clear()
      this.seenVersion = v
    }
  }

  readSync(scope, top) {
    this.fresh()
    let rows = this.cache.get(scope)
    if (rows && rows.has(top)) return rows.get(top)
    const json = this.q.read.get(scope, top) ?? null
    if (!rows) this.cache.set(scope, (rows = new Map()))
    rows.set(top, json)
    return json
  }

  readAsync(scope, top) {
    return this.readSync(scope, top)
  }

  keysSync(scope) {
    return this.q.keys.all(scope)
  }

  checkFence() {
    if (!this.token) return
    const token = this.token()
    const newest = this.q.fence.get(this.domain, token)
    if (newest > token) throw new FencedWriteError(token, newest, this.domain)
  }

  /** Count a refused write (outside the rolled-back transaction): refusals() shows that fencing acted. */
  refused(err) {
    if (err && err.code === 'FF_HA_FENCED') {
      try {
        this.q.refused.run(this.domain, err.token)
      } catch {
        // a count only: the write's own error is what the caller needs
      }
    }
    throw err
  }

  /** How many writes the fence refused in this domain, and the token of the last one refused. */
  refusals() {
    const row = this.q.refusals.get(this.domain)
    return {count: row ? Number(row.count) : 0, lastToken: row ? Number(row.token) : null}
  }

  /** Fenced read-modify-write of one row: mutate(json) -> {json, result, changed}. Synchronous. */
  write(scope, top, mutate) {
    try {
      return this.writeFenced(scope, top, mutate)
    } catch (err) {
      this.refused(err)
    }
  }

  writeFenced(scope, top, mutate) {
    let out
    this.fencedTx.immediate(() => {
      const current = this.q.read.get(scope, top) ?? null
      out = mutate(current)
      if (!out.changed) return
      if (out.json === null) this.q.remove.run(scope, top)
      else this.q.upsert.run(scope, top, out.json)
    })
    // Our own commit does not move data_version for this connection: keep the cache in step by hand.
    if (out.changed) {
      let rows = this.cache.get(scope)
      if (!rows) this.cache.set(scope, (rows = new Map()))
      rows.set(top, out.json)
    }
    return out
  }

  deleteScope(scope) {
    this.fencedTx.immediate(() => this.q.removeScope.run(scope))
    this.cache.delete(scope)
  }

  scopes() {
    return this.q.scopes.all()
  }

  /** Raise the fence to `token` without writing a value (the agent calls this at takeover). */
  fence(token) {
    const newest = this.db.transaction(() => this.q.fence.get(this.domain, token)).immediate()
    if (newest > token) throw new FencedWriteError(token, newest, this.domain)
  }
}

module.exports = {SqliteBackend}
