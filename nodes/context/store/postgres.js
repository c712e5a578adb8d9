'use strict'
// The PostgreSQL backend: for replicas on several hosts (Kubernetes, or Compose across machines).
//
// Node-RED's plain flow.get(key) is synchronous, so reads come from a cache of every row, loaded at open
// and kept current by LISTEN/NOTIFY: each write transaction sends pg_notify with the row's new version
// (and its value when it fits in a notification), delivered at commit, in commit order. A read with a
// callback (flow.get(key, cb)) goes to the database: that is the fresh read. Writes are queued in order
// on one connection; each is one transaction that checks the fence, locks the row, computes and writes.
const {Client} = require('pg')
const {ConfigError, FencedWriteError, SharedContextError} = require('./errors')

const CHANNEL = 'ffha_context'
const MAX_INLINE = 7000 // NOTIFY payloads are limited to 8000 bytes

const SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS ffha_context_version;
CREATE TABLE IF NOT EXISTS ffha_context (scope text NOT NULL, key text NOT NULL, value text, version bigint NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS ffha_fence (domain text PRIMARY KEY, token bigint NOT NULL);
CREATE TABLE IF NOT EXISTS ffha_refused (domain text PRIMARY KEY, count bigint NOT NULL, token bigint NOT NULL);
`

function describeTarget(config) {
  if (config.connectionString) {
    try {
      const u = new URL(config.connectionString)
      return `${u.hostname}:${u.port || 5432}${u.pathname}` // never the password
    } catch {
      return 'the configured connectionString'
    }
  }
  return `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`
}

class PostgresBackend {
  constructor(config, token, log) {
    if (!config.connectionString && !config.host) throw new ConfigError('backend "postgres" needs config.connectionString (or host, port, user, password, database)')
    this.config = config
    this.token = token
    this.log = log
    this.domain = config.fenceDomain ?? 'default'
    this.sync = false
    this.target = describeTarget(config)
    this.cache = new Map() // scope -> Map(top -> {json, version})
    this.queue = Promise.resolve()
    this.closing = false
    this.connected = []
  }

  connection() {
    const {connectionString, host, port, user, password, database} = this.config
    return new Client({connectionString, host, port, user, password, database, connectionTimeoutMillis: this.config.connectTimeoutMs ?? 5000})
  }

  async open() {
    try {
      this.writer = this.connection()
      this.listener = this.connection()
      // end() of a client that never connected never resolves: only connected clients are ended
      await this.writer.connect()
      this.connected.push(this.writer)
      await this.listener.connect()
      this.connected.push(this.listener)
      await this.writer.query(SCHEMA).catch(async err => {
        // two replicas creating the schema at once race on the catalog: the loser retries once
        if (err.code !== '23505' && err.code !== '42P07') throw err
        await this.writer.query(SCHEMA)
      })
    } catch (err) {
      await this.close()
      throw new ConfigError(`cannot reach PostgreSQL at ${this.target}: ${err.code || err.message}; check contextStorage config.connectionString and that the server is up`)
    }
    for (const c of [this.writer, this.listener]) {
      c.on('error', err => this.broken(err))
      c.on('end', () => this.broken(new Error('connection closed')))
    }
    this.listener.on('notification', n => this.onNotify(n.payload))
    await this.listener.query(`LISTEN ${CHANNEL}`)
    await this.reload()
  }

  broken(err) {
    if (this.closing) return
    this.failed = new SharedContextError(`ff-ha shared context: lost PostgreSQL at ${this.target}: ${err.code || err.message}; writes fail until Node-RED restarts`, 'FF_HA_UNREACHABLE')
    this.log.error(this.failed.message)
  }

  async close() {
    this.closing = true
    await this.queue.catch(() => {})
    await Promise.allSettled(this.connected.map(c => c.end()))
    this.connected = []
  }

  /** Load every row. Runs after LISTEN, so no change falls between the load and the notifications. */
  async reload() {
    const {rows} = await this.listener.query('SELECT scope, key, value, version FROM ffha_context')
    this.cache.clear()
    for (const r of rows) this.remember(r.scope, r.key, r.value, BigInt(r.version))
  }

  remember(scope, top, json, version) {
    let rows = this.cache.get(scope)
    if (!rows) this.cache.set(scope, (rows = new Map()))
    const had = rows.get(top)
    // per row, versions grow in commit order (taken under the row lock): an older one is a late echo
    if (had && had.version > version) return
    rows.set(top, {json, version})
  }

  onNotify(payload) {
    let n
    try {
      n = JSON.parse(payload)
    } catch {
      return
    }
    if (n.scopeDeleted) {
      this.cache.delete(n.s)
      return
    }
    const version = BigInt(n.v)
    if (n.big) {
      // too large to travel in the notification: fetch it
      this.listener.query('SELECT value, version FROM ffha_context WHERE scope = $1 AND key = $2', [n.s, n.k]).then(
        ({rows}) => this.remember(n.s, n.k, rows[0]?.value ?? null, rows[0] ? BigInt(rows[0].version) : version),
        err => this.log.error(`ff-ha shared context: cannot fetch ${n.s} ${n.k}: ${err.message}`),
      )
      return
    }
    this.remember(n.s, n.k, n.j ?? null, version)
  }

  readSync(scope, top) {
    return this.cache.get(scope)?.get(top)?.json ?? null
  }

  async readAsync(scope, top) {
    if (this.failed) throw this.failed
    const {rows} = await this.enqueue(c => c.query('SELECT value FROM ffha_context WHERE scope = $1 AND key = $2', [scope, top]))
    return rows[0]?.value ?? null
  }

  keysSync(scope) {
    const rows = this.cache.get(scope)
    if (!rows) return []
    return [...rows].filter(([, r]) => r.json !== null).map(([k]) => k).sort()
  }

  /** Show a write of this process in its own reads at once (read-your-writes); the commit confirms it. */
  optimistic(scope, top, json) {
    // with the connection gone the write will fail: do not show a value that will never be stored
    if (this.failed) return () => {}
    let rows = this.cache.get(scope)
    if (!rows) this.cache.set(scope, (rows = new Map()))
    const had = rows.get(top)
    const mine = {json, version: had?.version ?? 0n}
    rows.set(top, mine)
    // undo: put back what was there, unless a newer committed row replaced ours meanwhile
    return () => {
      const now = this.cache.get(scope)
      if (now && now.get(top) === mine) {
        if (had) now.set(top, had)
        else now.delete(top)
      }
    }
  }

  /** Run fn(client) after every earlier write of this process: writes apply in the order they were made. */
  enqueue(fn) {
    const run = this.queue.then(() => fn(this.writer))
    this.queue = run.catch(() => {})
    return run
  }

  async fenceIn(c) {
    if (!this.token) return
    const token = this.token()
    const {rows} = await c.query(
      'INSERT INTO ffha_fence (domain, token) VALUES ($1, $2) ON CONFLICT (domain) DO UPDATE SET token = GREATEST(ffha_fence.token, EXCLUDED.token) RETURNING token',
      [this.domain, token.toString()],
    )
    const newest = BigInt(rows[0].token)
    if (newest > token) throw new FencedWriteError(token, newest, this.domain)
  }

  async transaction(c, fn) {
    await c.query('BEGIN')
    try {
      const out = await fn()
      await c.query('COMMIT')
      return out
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    }
  }

  /** Count a refused write (after the rollback): refusals() shows that fencing acted. */
  async refused(c, err) {
    if (err && err.code === 'FF_HA_FENCED') {
      await c
        .query(
          'INSERT INTO ffha_refused (domain, count, token) VALUES ($1, 1, $2) ON CONFLICT (domain) DO UPDATE SET count = ffha_refused.count + 1, token = EXCLUDED.token',
          [this.domain, err.token.toString()],
        )
        .catch(() => {}) // a count only: the write's own error is what the caller needs
    }
    throw err
  }

  /** How many writes the fence refused in this domain, and the token of the last one refused. */
  async refusals() {
    const {rows} = await this.enqueue(c => c.query('SELECT count, token FROM ffha_refused WHERE domain = $1', [this.domain]))
    return {count: rows[0] ? Number(rows[0].count) : 0, lastToken: rows[0] ? Number(rows[0].token) : null}
  }

  /** Fenced read-modify-write of one row: mutate(json) -> {json, result, changed}. Returns a promise. */
  write(scope, top, mutate) {
    if (this.failed) return Promise.reject(this.failed)
    return this.enqueue(c => this.writeFenced(c, scope, top, mutate).catch(err => this.refused(c, err)))
  }

  async writeFenced(c, scope, top, mutate) {
    const out = await this.transaction(c, async () => {
      await this.fenceIn(c)
      // Make the row exist so that FOR UPDATE has something to lock: two first writers of one key wait
      // for each other here instead of both inserting.
      await c.query('INSERT INTO ffha_context (scope, key, value, version) VALUES ($1, $2, NULL, 0) ON CONFLICT DO NOTHING', [scope, top])
      const {rows} = await c.query('SELECT value FROM ffha_context WHERE scope = $1 AND key = $2 FOR UPDATE', [scope, top])
      const result = mutate(rows[0]?.value ?? null)
      if (!result.changed) return result
      const {rows: v} = await c.query(
        "UPDATE ffha_context SET value = $3, version = nextval('ffha_context_version') WHERE scope = $1 AND key = $2 RETURNING version",
        [scope, top, result.json],
      )
      result.version = BigInt(v[0].version)
      const big = result.json !== null && Buffer.byteLength(result.json) > MAX_INLINE
      const payload = JSON.stringify({s: scope, k: top, v: result.version.toString(), j: big ? undefined : result.json, big: big || undefined})
      await c.query('SELECT pg_notify($1, $2)', [CHANNEL, payload])
      return result
    })
    if (out.changed) this.remember(scope, top, out.json, out.version)
    return out
  }

  /** Put the committed row back in the cache after a refused or failed write undid an optimistic one. */
  async refresh(scope, top) {
    const {rows} = await this.enqueue(c => c.query('SELECT value, version FROM ffha_context WHERE scope = $1 AND key = $2', [scope, top]))
    const rowsOf = this.cache.get(scope)
    if (rowsOf) rowsOf.delete(top)
    if (rows[0]) this.remember(scope, top, rows[0].value, BigInt(rows[0].version))
  }

  deleteScope(scope) {
    if (this.failed) return Promise.reject(this.failed)
    return this.enqueue(c =>
      this.transaction(c, async () => {
        await this.fenceIn(c)
        await c.query('DELETE FROM ffha_context WHERE scope = $1', [scope])
        await c.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({s: scope, scopeDeleted: true})])
      }),
    ).then(() => {
      this.cache.delete(scope)
    })
  }

  scopes() {
    return [...this.cache.keys()]
  }

  /** Open only what fence() needs (one connection, the schema): the agent raising the fence at takeover. */
  async openForFence() {
    try {
      this.writer = this.connection()
      await this.writer.connect()
      this.connected.push(this.writer)
      await this.writer.query(SCHEMA).catch(async err => {
        if (err.code !== '23505' && err.code !== '42P07') throw err
        await this.writer.query(SCHEMA)
      })
    } catch (err) {
      await this.close()
      throw new ConfigError(`cannot reach PostgreSQL at ${this.target}: ${err.code || err.message}; check the shared context's connection string and that the server is up`)
    }
  }

  /** Raise the fence to `token` without writing a value (the agent calls this at takeover). */
  fence(token) {
    return this.enqueue(async c => {
      const {rows} = await c.query(
        'INSERT INTO ffha_fence (domain, token) VALUES ($1, $2) ON CONFLICT (domain) DO UPDATE SET token = GREATEST(ffha_fence.token, EXCLUDED.token) RETURNING token',
        [this.domain, BigInt(token).toString()],
      )
      if (BigInt(rows[0].token) > BigInt(token)) throw new FencedWriteError(BigInt(token), BigInt(rows[0].token), this.domain)
    })
  }
}

module.exports = {PostgresBackend}
