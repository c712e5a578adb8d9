import type {LeaseRecord, Observed} from './machine.js'

/**
 * A lease backend: I/O only. All the decisions are in machine.ts. A store reads the record with its
 * version, and writes a record only if the version is still the one given (compare-and-swap); a version of
 * null means "create: there was no record".
 */
export interface LeaseStore {
  /** Human name for logs: "sqlite /data/ff-ha/lease.db", "kubernetes default/ff-ha-leader". */
  readonly describe: string
  read(): Promise<Observed>
  /** The new version, or null when someone else wrote in between (a conflict: read again). */
  write(record: LeaseRecord, version: string | null): Promise<string | null>
  close(): Promise<void>
}
