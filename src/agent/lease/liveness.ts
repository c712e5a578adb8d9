import {existsSync, mkdirSync, statfsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname} from 'node:path'
import Database from 'better-sqlite3'
import {RemoteError, errorMessage} from '../../errors.js'
import {ENV} from '../../model/env.js'

// Liveness locks: a whole replica that dies (agent and Node-RED killed, its container killed, OOM) is taken
// over in a few hundred ms instead of at lease expiry, on ONE host. Issue #13 part 2.
//
// THE LOCK. Every replica X has a small SQLite file beside the sqlite lease file (same shared volume),
// `<lease file>.live-<lease name>-<X>`, in rollback-journal mode (never WAL: WAL readers take no lock on
// the main file). X's agent holds a read transaction on it (a POSIX SHARED lock) from its start to its
// exit, and so does X's Node-RED (the agent's preload, node-red-child.ts, opens it before red.js runs and
// refuses to run Node-RED if it cannot). Many readers share a SHARED lock; a write lock (BEGIN EXCLUSIVE)
// is granted only when no process holds it. The kernel drops a process's POSIX locks when the process
// exits, however it exits. The file also says whether X's Node-RED holds the lock (`covered`): X writes it
// once, at start, before it takes its own read lock.
//
// THE PROOF. A candidate C that waits on holder H (the record, version v, names H and has not expired by
// C's clock) tries BEGIN EXCLUSIVE on H's file without waiting, reads `covered`, and rolls back at once. If
// it got the lock and covered = 1, then at that instant no process holds H's lock: H's agent and H's
// Node-RED are both dead (a live one holds it from before it could lead or run flows until it exits).
// C tells the lease machine (observeHolderGone, invariant 7), which plans an acquire on version v with
// token + 1. It is still a compare-and-swap: if H renewed after C's read (so H was alive), or another
// candidate won, the write fails and C reads again. A proof is void when the record changes.
// Why C drops the lock at once rather than keep it: C's own liveness is its OWN file, held since its start;
// holding H's file would only stop a restarted H from starting.
//
// WHAT IT DOES NOT PROVE, and what covers it:
// - A paused process (SIGSTOP, `docker pause`, a VM stall) holds its locks: no proof, the lease expiry
//   rules, and on wake-up the holder fences on its monotonic clock (machine.ts invariants 1, 3, 5). A freeze
//   takes as long as before.
// - A holder that is alive but lost the lease keeps its lock until it exits: proofs are about the holder the
//   record names, so its lock only ever delays takeovers from itself (a new tenure of H is safe to prove
//   against, since H holds the lock from start).
// - A process that closes ANY descriptor of its liveness file loses its POSIX locks on it (POSIX, not
//   SQLite): the agent opens its file once; a Node-RED flow that opens the file (a `file in` node pointed at
//   the lease volume) would drop Node-RED's lock. The volume is not userDir; do not point flows at it.
// - Another kernel: POSIX locks are per kernel. Two hosts sharing a disk, NFS, SMB/CIFS, FUSE and other
//   network or user-space filesystems do not give this guarantee: the agent checks the directory's
//   filesystem type (allow-list below) and disables early takeover with a one-line warning; render refuses
//   a Compose lease volume on a network driver.
// - Processes Node-RED spawned (exec nodes) do not hold the lock (POSIX locks are not inherited).
// - Node-RED run by a custom command (agent --command) or on another Node binary (whose ABI cannot load
//   better-sqlite3) cannot hold it: that replica writes covered = 0 and is never taken over early.
// THE FENCING TOKEN still guards writes: an early takeover is a new tenure (transitions + 1), and sinks that
// check the token refuse the dead holder's late writes (its packets in flight) exactly as after expiry.

/** Filesystems on which a POSIX lock taken by a process is seen by every other process of one kernel. */
const LOCAL_FILESYSTEMS = new Map<number, string>([
  [0xef53, 'ext2/3/4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x794c7630, 'overlayfs'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
  [0x52654973, 'reiserfs'],
  [0x3153464a, 'jfs'],
  [0xca451a4e, 'bcachefs'],
])
/** The ones worth naming in the warning. */
const REMOTE_FILESYSTEMS = new Map<number, string>([
  [0x6969, 'NFS'],
  [0x517b, 'SMB'],
  [0xff534d42, 'CIFS'],
  [0xfe534d42, 'SMB2'],
  [0x65735546, 'FUSE'],
  [0x00c36400, 'Ceph'],
  [0x01021997, '9p'],
  [0x6a656a63, 'virtiofs'],
  [0x01161970, 'GFS2'],
  [0x7461636f, 'OCFS2'],
  [0x5346414f, 'AFS'],
  [0x0bd00bd0, 'Lustre'],
])

/** Null when `dir` is on a local filesystem; else why early takeover cannot be trusted there. */
export function nonLocalFilesystem(dir: string): string | null {
  let type: number
  try {
    type = statfsSync(dir).type
  } catch (err) {
    return `cannot read the filesystem type of ${dir} (${errorMessage(err)})`
  }
  if (LOCAL_FILESYSTEMS.has(type)) return null
  const name = REMOTE_FILESYSTEMS.get(type)
  return name ? `${dir} is on ${name}, a network or user-space filesystem` : `${dir} is on a filesystem of unknown type 0x${type.toString(16)}`
}

/** The liveness file of one replica for one lease. */
export function livenessFile(leaseFile: string, leaseName: string, identity: string): string {
  return `${leaseFile}.live-${encodeURIComponent(leaseName)}-${encodeURIComponent(identity)}`
}

/** Where the Node-RED preload loads better-sqlite3 from (the agent's own copy: same Node, same ABI). */
export function sqliteModulePath(): string {
  return dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'))
}

/** What the lease elector asks: is the holder named in the record proven gone? */
export interface HolderLiveness {
  holderGone(holder: string): boolean
}

/** A backend's liveness, as the agent holds it: the probe, its Node-RED's part, and the close at exit. */
export interface ReplicaLiveness extends HolderLiveness {
  readonly describe: string
  /** Environment for the Node-RED child, so that it holds the lock too (null: it does not). */
  childEnv(): Record<string, string> | null
  close(): void
}

/** Liveness as a backend opens it: null with the reason when early takeover is off for this replica. */
export type LivenessOpening = {liveness: ReplicaLiveness; disabled?: undefined} | {liveness: null; disabled: string}

/** How long the owner waits at start for a candidate's probe (microseconds) or a dying old self. */
const OWNER_WAIT_MS = 5000

// Held connections hang off the process object: a connection that only an unreachable object refers to is
// closed by its finalizer when the garbage collector runs, and its lock goes with it (seen: ~8 s after start
// in a process that kept the LivenessLocks in a module-level const that nothing read again).
const HELD = Symbol.for('ff-ha.liveness.held')
function held(): Set<Database.Database> {
  const p = process as unknown as Record<symbol, Set<Database.Database> | undefined>
  return (p[HELD] ??= new Set())
}

function busy(err: unknown): boolean {
  const code = (err as {code?: unknown}).code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/**
 * This replica's side: hold its own liveness lock for the life of the process, and probe other replicas'.
 * `covered`: whether this replica's Node-RED will hold the lock too (see the header).
 */
export class LivenessLocks implements ReplicaLiveness {
  readonly file: string
  readonly describe: string
  private own: Database.Database | null = null

  constructor(
    private readonly leaseFile: string,
    private readonly leaseName: string,
    private readonly identity: string,
    readonly covered: boolean,
  ) {
    this.file = livenessFile(leaseFile, leaseName, identity)
    this.describe = `liveness ${this.file}${covered ? '' : ' (Node-RED does not hold it: never taken over early)'}`
  }

  /** Write `covered` if it differs, then take the read lock and keep it. Throws RemoteError when it cannot. */
  hold(): void {
    mkdirSync(dirname(this.file), {recursive: true})
    let db: Database.Database | null = null
    try {
      db = new Database(this.file, {timeout: OWNER_WAIT_MS})
      db.pragma('journal_mode = DELETE')
      db.exec('CREATE TABLE IF NOT EXISTS liveness (id INTEGER PRIMARY KEY CHECK (id = 1), covered INTEGER NOT NULL)')
      const want = this.covered ? 1 : 0
      const row = db.prepare('SELECT covered FROM liveness WHERE id = 1').get() as {covered: number} | undefined
      // A write needs every other holder gone: an old process of this replica still alive (a frozen one, an
      // orphaned Node-RED) makes this wait, then fail the start; the supervisor of the agent retries.
      if (row?.covered !== want) db.prepare('INSERT INTO liveness (id, covered) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET covered = excluded.covered').run(want)
      db.exec('BEGIN')
      db.prepare('SELECT covered FROM liveness WHERE id = 1').get()
      this.own = db
      held().add(db)
    } catch (err) {
      db?.close()
      throw new RemoteError(`${this.identity}: cannot hold the liveness lock ${this.file} (${busy(err) ? 'another process of this replica still holds it' : errorMessage(err)})`, {
        replica: this.identity,
        hint: busy(err) ? 'an earlier agent or Node-RED of this replica is still running (frozen or orphaned): stop it' : 'the lease directory must be a local filesystem shared by the replicas, and writable',
      })
    }
  }

  /** The environment that makes the Node-RED child hold the same lock (null: it cannot, covered is 0). */
  childEnv(): Record<string, string> | null {
    return this.covered ? {[ENV.livenessFile]: this.file, [ENV.livenessSqlite]: sqliteModulePath()} : null
  }

  holderGone(holder: string): boolean {
    if (holder === this.identity) return false
    const file = livenessFile(this.leaseFile, this.leaseName, holder)
    if (!existsSync(file)) return false
    // A fresh connection every time: a cached one could point at an inode the holder no longer uses.
    let db: Database.Database | null = null
    try {
      db = new Database(file, {fileMustExist: true, timeout: 0})
      db.exec('BEGIN EXCLUSIVE')
      try {
        const row = db.prepare('SELECT covered FROM liveness WHERE id = 1').get() as {covered: number} | undefined
        return row?.covered === 1
      } finally {
        db.exec('ROLLBACK')
      }
    } catch {
      // busy: some process of that replica lives; anything else: no proof either
      return false
    } finally {
      db?.close()
    }
  }

  /** At exit (after the lease is released or the process is dying anyway). */
  close(): void {
    if (this.own) held().delete(this.own)
    if (this.own?.open) this.own.close()
    this.own = null
  }
}
