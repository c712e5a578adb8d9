import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import Database from 'better-sqlite3'
import {whileBusy} from '../lease/sqlite.js'
import type {FlowsRecord, FlowsRecordStore, RecordHead} from './record.js'

const OPEN_TIMEOUT_MS = 5000
/** A commit may wait this long for the write lock (a lease renew holds it for microseconds). */
const BUSY_TIMEOUT_MS = 200

interface Row {
  version: number
  rev: string
  flows: string
  credentials: string | null
  credentials_changed: number
  origin: FlowsRecord['origin']
  replica: string
  at: number
}

// The flows record beside the lease, in the same SQLite file (WAL): a table of its own, one row per lease
// name, written in BEGIN IMMEDIATE transactions that compare the version read (compare-and-swap), as the
// lease is. A poll reads only (version, rev, origin, replica).
export class SqliteFlowsRecordStore implements FlowsRecordStore {
  readonly describe: string
  private readonly db: Database.Database
  private readonly selectHead: Database.Statement
  private readonly selectRow: Database.Statement
  private readonly casWrite: (record: FlowsRecord, version: string | null) => string | null

  constructor(file: string, private readonly name: string) {
    this.describe = `sqlite ${file} (table flows_record)`
    mkdirSync(dirname(file), {recursive: true})
    this.db = new Database(file, {timeout: OPEN_TIMEOUT_MS})
    whileBusy(OPEN_TIMEOUT_MS, () => {
      this.db.pragma('journal_mode = WAL')
      this.db.exec(`CREATE TABLE IF NOT EXISTS flows_record (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        rev TEXT NOT NULL,
        flows TEXT NOT NULL,
        credentials TEXT,
        credentials_changed INTEGER NOT NULL,
        origin TEXT NOT NULL,
        replica TEXT NOT NULL,
        at INTEGER NOT NULL
      )`)
    })
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    this.selectHead = this.db.prepare('SELECT version, rev, origin, replica FROM flows_record WHERE name = ?')
    this.selectRow = this.db.prepare('SELECT * FROM flows_record WHERE name = ?')
    const insert = this.db.prepare('INSERT INTO flows_record (name, version, rev, flows, credentials, credentials_changed, origin, replica, at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)')
    const update = this.db.prepare('UPDATE flows_record SET version = version + 1, rev = ?, flows = ?, credentials = ?, credentials_changed = ?, origin = ?, replica = ?, at = ? WHERE name = ? AND version = ?')
    const tx = this.db.transaction((record: FlowsRecord, version: string | null): string | null => {
      const head = this.selectHead.get(this.name) as {version: number} | undefined
      const args = [record.rev, JSON.stringify(record.flows), record.credentials ? JSON.stringify(record.credentials) : null, record.credentialsChanged ? 1 : 0, record.origin, record.replica, record.at] as const
      if (version === null) {
        if (head) return null
        insert.run(this.name, ...args)
        return '1'
      }
      if (!head || String(head.version) !== version) return null
      update.run(...args, this.name, head.version)
      return String(head.version + 1)
    })
    this.casWrite = (record, version) => tx.immediate(record, version)
  }

  async head(): Promise<RecordHead | null> {
    const row = this.selectHead.get(this.name) as Pick<Row, 'version' | 'rev' | 'origin' | 'replica'> | undefined
    return row ? {version: String(row.version), rev: row.rev, origin: row.origin, replica: row.replica} : null
  }

  async read(): Promise<{record: FlowsRecord; version: string} | null> {
    const row = this.selectRow.get(this.name) as Row | undefined
    if (!row) return null
    return {
      version: String(row.version),
      record: {
        rev: row.rev,
        flows: JSON.parse(row.flows) as FlowsRecord['flows'],
        credentials: row.credentials ? (JSON.parse(row.credentials) as FlowsRecord['credentials']) : null,
        credentialsChanged: row.credentials_changed === 1,
        origin: row.origin,
        replica: row.replica,
        at: row.at,
      },
    }
  }

  async write(record: FlowsRecord, version: string | null): Promise<string | null> {
    try {
      return this.casWrite(record, version)
    } catch (err) {
      if ((err as {code?: string}).code === 'SQLITE_BUSY') return null
      throw err
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}
