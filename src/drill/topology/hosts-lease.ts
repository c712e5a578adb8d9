import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseDocument} from 'yaml'
import {LEASE_BACKEND_IDS} from '../../agent/lease/backends/index.js'
import {parseProfileText} from '../../profile/load.js'
import type {Profile} from '../../profile/schema.js'
import {agentProfileText} from './agent-profile.js'

// The lease the hosts target's agents hold. The point of the target is the etcd lease across hosts
// (failover.lease: etcd, the three members' endpoints). Where this build has no etcd backend, the agents
// fall back to the sqlite lease on a file that the namespaces share (one kernel) with the bridge's witness,
// and the report says so: the topology and its faults are the same, only the lease differs.

export interface HostsLease {
  backend: 'etcd' | 'sqlite'
  /** For the report: which lease, and where. */
  description: string
  /** The agents' profile file (written, and checked to load). */
  profileFile: string
  /** The agents' resolved profile: their timings decide how long the etcd faults last and are watched. */
  agentProfile: Profile
}

export function etcdLeaseAvailable(): boolean {
  return (LEASE_BACKEND_IDS as readonly string[]).includes('etcd')
}

/** The agents' copy of the profile: the etcd lease on the members (or the sqlite fallback with its witness). */
export function hostsAgentProfileText(profileText: string, lease: {etcdEndpoints: string[]} | {witness: string}): string {
  if ('witness' in lease) return agentProfileText(profileText, lease.witness)
  const doc = parseDocument(profileText)
  doc.set('target', 'compose')
  doc.setIn(['failover', 'lease'], 'etcd')
  doc.deleteIn(['failover', 'witness'])
  doc.deleteIn(['failover', 'leaseFile'])
  doc.setIn(['failover', 'etcd', 'endpoints'], lease.etcdEndpoints)
  return doc.toString()
}

export function writeHostsAgentProfile(dir: string, profileText: string, lease: {etcdEndpoints: string[]} | {witness: string}): HostsLease {
  const file = join(dir, 'ff-ha.yaml')
  writeFileSync(file, hostsAgentProfileText(profileText, lease))
  const agentProfile = parseProfileText(readFileSync(file, 'utf8'), file)
  return 'witness' in lease
    ? {backend: 'sqlite', description: `sqlite on a file the hosts share, witness ${lease.witness} (this build has no etcd lease backend)`, profileFile: file, agentProfile}
    : {backend: 'etcd', description: `etcd ${lease.etcdEndpoints.join(',')}`, profileFile: file, agentProfile}
}
