import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import Database from 'better-sqlite3'
import type {LeaseRecord, Observed} from './machine.js'
import type {LeaseStore} from './store.js'

interface Row {
  holder: string | null
  lease_duration_ms: number
  acquire_time: number
  renew_time: number
  transitions: number
  version: number
}

/** How long opening the file waits for another process that is setting it up. */
const OPEN_TIMEOUT_MS = 5000
/** How long a lease read or write waits for the lock afterwards. */
const BUSY_TIMEOUT_MS = 50

/**
 * Runs fn again while SQLite says the database is busy or locked, up to ms: the busy handler covers most
 * waits, but SQLite answers busy at once where waiting could deadlock (two connections both upgrading a
 * lock, as at the switch to WAL).
 */
export function whileBusy(ms: number, fn: () => void): void {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return fn()
    } catch (err) {
      const code = (err as {code?: unknown}).code
      const busy = typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      if (!busy || Date.now() >= deadline) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
    }
  }
}

// The embedded lease for replicas on one host (local processes, Compose with a shared volume): one SQLite
// file in WAL mode, one row per lease. Writes run in BEGIN IMMEDIATE transactions, which take the write
// lock up front, and compare the row's version with the one that was read: a compare-and-swap. WAL needs
// shared memory between the processes, so the file must be on a local filesystem (not NFS/SMB).
export class SqliteLeaseStore implements LeaseStore {
  readonly describe: string
  private readonly db: Database.Database
  private readonly selectRow: Database.Statement
  private readonly casWrite: (record: LeaseRecord, version: string | null) => string | null

  constructor(file: string, private readonly name = 'ff-ha') {
    this.describe = `sqlite ${file}`
    mkdirSync(dirname(file), {recursive: true})
    // Setting up (the switch to WAL, the table) takes an exclusive lock once, at start, when the other
    // agents may be opening the same new file: wait for it as long as OPEN_TIMEOUT_MS (nothing else runs
    // yet). After that a short busy timeout: better-sqlite3 is synchronous, so waiting for the lock blocks
    // the agent's event loop; transactions here take microseconds, and a busy lock means "try again next
    // retry period".
    this.db = new Database(file, {timeout: OPEN_TIMEOUT_MS})
    whileBusy(OPEN_TIMEOUT_MS, () => this.setUp())
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    this.selectRow = this.db.prepare('SELECT holder, lease_duration_ms, acquire_time, renew_time, transitions, version FROM lease WHERE name = ?')
    const insert = this.db.prepare(
      'INSERT INTO lease (name, holder, lease_duration_ms, acquire_time, renew_time, transitions, version) VALUES (?, ?, ?, ?, ?, ?, 1)',
    )
    const update = this.db.prepare(
      'UPDATE lease SET holder = ?, lease_duration_ms = ?, acquire_time = ?, renew_time = ?, transitions = ?, version = version + 1 WHERE name = ? AND version = ?',
    )
    const tx = this.db.transaction((record: LeaseRecord, version: string | null): string | null => {
      const row = this.selectRow.get(this.name) as Row | undefined
      const args = [record.holder, record.leaseDurationMs, record.acquireTime, record.renewTime, record.transitions] as const
      if (version === null) {
        if (row) return null
        insert.run(this.name, ...args)
        return '1'
      }
      if (!row || String(row.version) !== version) return null
      // Defence in depth beside the state machine: the fencing token never goes back.
      if (record.transitions < row.transitions) return null
      update.run(...args, this.name, Number(version))
      return String(row.version + 1)
    })
    this.casWrite = (record, version) => tx.immediate(record, version)
  }

  private setUp(): void {
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(`CREATE TABLE IF NOT EXISTS lease (
      name TEXT PRIMARY KEY,
      holder TEXT,
      lease_duration_ms INTEGER NOT NULL,
      acquire_time INTEGER NOT NULL,
      renew_time INTEGER NOT NULL,
      transitions INTEGER NOT NULL,
      version INTEGER NOT NULL
    )`)
  }

  async read(): Promise<Observed> {
    const row = this.selectRow.get(this.name) as Row | undefined
    if (!row) return {record: null, version: null}
    return {
      version: String(row.version),
      record: {
        holder: row.holder,
        leaseDurationMs: row.lease_duration_ms,
        acquireTime: row.acquire_time,
        renewTime: row.renew_time,
        transitions: row.transitions,
      },
    }
  }

  async write(record: LeaseRecord, version: string | null): Promise<string | null> {
    try {
      return this.casWrite(record, version)
    } catch (err) {
      // Another process holds the write lock: a conflict, not a failure of the store.
      if ((err as {code?: string}).code === 'SQLITE_BUSY') return null
      throw err
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}
