import {dirname, resolve} from 'node:path'
import {RemoteError, errorMessage} from '../../../errors.js'
import {containerPath} from '../../../profile/types.js'
import type {LeaseBackend} from './types.js'
import {ENV} from '../../../model/env.js'

export interface SqliteLeaseOptions {
  /** The lease file, absolute. */
  file: string
}

// One host (local processes, Compose with a shared volume): a file lock costs microseconds, so short
// timings give a takeover in a few hundred ms.
const profileFields = {
  /**
   * Where the sqlite lease file lives inside the replicas. Its directory is the volume that all replicas
   * share, so it must not be under the per-replica userDir (/data).
   */
  leaseFile: containerPath.default('/var/lib/ff-ha/lease.db'),
}

export const sqliteLeaseBackend: LeaseBackend<'sqlite', SqliteLeaseOptions, typeof profileFields> = {
  id: 'sqlite',
  summary: 'sqlite (one host: compose)',
  targets: ['compose'],
  defaultFor: 'compose',
  profileFields,
  wrongTarget: () => ({
    path: ['failover', 'lease'],
    message: 'sqlite cannot be the lease on kubernetes: a file lease cannot span nodes, so two pods could both hold it; use "kubernetes"',
    hint: 'set failover.lease: kubernetes, or leave it out (the default on kubernetes)',
  }),
  // The lease file's directory is the volume every replica mounts; it must be a directory of its own.
  profileIssues(p) {
    const file = p.failover.leaseFile
    const dir = file.slice(0, file.lastIndexOf('/'))
    const under = (d: string) => dir === d || dir.startsWith(`${d}/`)
    if (dir === '') {
      return [{path: ['failover', 'leaseFile'], message: 'must be in a directory, not in /: its directory is the volume that all replicas share', hint: 'use a path like /var/lib/ff-ha/lease.db'}]
    }
    if (['/data', '/etc/ff-ha', '/usr', '/bin', '/lib', '/proc', '/sys', '/dev'].some(under) || dir === '/etc') {
      return [{path: ['failover', 'leaseFile'], message: `must not be under ${dir}: its directory becomes a volume shared by all replicas, and that directory belongs to each replica or to the image`, hint: 'use a path like /var/lib/ff-ha/lease.db'}]
    }
    return []
  },
  defaultTimings: {
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 200,
    healthIntervalMs: 250,
    healthTimeoutMs: 200,
    healthFailureThreshold: 3,
  },
  // A read is a ~20 us local SELECT.
  candidatePollMs: 50,
  options: ({profile, leaseFile, env, cwd}) => ({file: resolve(cwd, leaseFile ?? env[ENV.leaseFile] ?? profile.failover.leaseFile)}),
  async open({file, name}, replica) {
    try {
      // Loaded here: better-sqlite3 is a native module that the kubernetes agent never needs.
      const {SqliteLeaseStore} = await import('../sqlite.js')
      return new SqliteLeaseStore(file, name)
    } catch (err) {
      throw new RemoteError(`${replica}: cannot open the sqlite lease ${file} (${errorMessage(err)})`, {
        replica,
        hint: 'the lease file must be on a local filesystem shared by the replicas, and writable',
      })
    }
  },
  // One kernel, one shared local directory: a whole replica's death frees its POSIX locks (liveness.ts).
  async openLiveness({file, name}, replica, covered) {
    const {LivenessLocks, nonLocalFilesystem} = await import('../liveness.js')
    const why = nonLocalFilesystem(dirname(file))
    if (why) return {liveness: null, disabled: `${why}: a dead replica is taken over at lease expiry only`}
    const locks = new LivenessLocks(file, name, replica, covered)
    locks.hold()
    return {liveness: locks}
  },
  render: {
    // One host: the lease file's directory is a volume that every replica mounts.
    compose: profile => ({
      environment: {[ENV.leaseFile]: profile.failover.leaseFile},
      volumes: [{name: 'lease', mountPath: dirname(profile.failover.leaseFile)}],
    }),
  },
}
