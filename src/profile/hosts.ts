// Several hosts without Kubernetes (issue #13): the profile's `hosts` list says which machine runs which
// replicas and which runs an etcd member; `ff-ha render` writes one Compose project per host
// (docs/design/multi-host.md). The lease is etcd, which every host reaches; replicas keep their names
// (<name>-0, -1, ...) and their published ports, numbered across the hosts in the order they are listed.
import {z} from 'zod'
import {dns1123Label} from './types.js'
import type {ProfileIssue} from './checks.js'

/** A host name or an IP address that the other hosts reach this one by (no port, no scheme). */
const hostAddress = z
  .string()
  .regex(/^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*\]?)$/, 'must be a host name or an IP address like 10.0.0.5 (no port, no scheme)')
  .max(253, 'must be at most 253 characters (a DNS name)')

export const hostSchema = z.strictObject({
  /** The host's name: its folder under --out, `ff-ha render --host NAME`, the etcd member's name. */
  name: dns1123Label,
  /** How the other hosts reach this one: HAProxy on every host checks and forwards to its replicas here. */
  address: hostAddress,
  /** How many replicas run here (0: a witness that only runs an etcd member). */
  replicas: z.number().int().min(0).max(20).default(1),
  /** Run an etcd member here (three hosts with a member: any one may be lost). */
  etcd: z.boolean().default(false),
})

export type Host = z.output<typeof hostSchema>

/** The profile fields this module reads. */
interface HostsProfile {
  target: string
  replicas: number
  hosts?: Host[]
  failover: {lease: string; etcd?: {endpoints: string[]}}
  mqtt: {bundled: boolean}
  nodeRed: {contextStorage: unknown}
}

/** The etcd client URL a member on `host` serves (what failover.etcd.endpoints must list). */
export function etcdClientUrl(host: Host): string {
  return `http://${bracketed(host.address)}:2379`
}

export function etcdPeerUrl(host: Host): string {
  return `http://${bracketed(host.address)}:2380`
}

function bracketed(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address
}

/** Replica indexes per host, in the order of `hosts` (replica i is `<name>-i` on every host's proxy). */
export function replicasByHost(profile: {replicas: number; hosts?: Host[]}): Map<string, number[]> {
  const out = new Map<string, number[]>()
  let next = 0
  for (const h of profile.hosts ?? []) {
    out.set(h.name, Array.from({length: h.replicas}, () => next++))
  }
  return out
}

/** What a `hosts` list must satisfy beyond its fields' types, each at the field to change. */
export function hostsIssues(p: HostsProfile, sharedContextBackend?: string): ProfileIssue[] {
  const hosts = p.hosts
  if (!hosts) return []
  const issues: ProfileIssue[] = []
  if (p.target !== 'compose') {
    return [{path: ['hosts'], message: `is for target compose (one Compose project per host); ${p.target} places replicas on its nodes itself`, hint: 'remove hosts, or set target: compose'}]
  }
  if (hosts.length < 2) issues.push({path: ['hosts'], message: 'lists one host: HA across hosts needs at least two', hint: 'list two Node-RED hosts (and a small third one with etcd: true as the witness), or remove hosts for a one-host set-up'})
  const names = new Map<string, number>()
  const addresses = new Map<string, number>()
  hosts.forEach((h, i) => {
    if (names.has(h.name)) issues.push({path: ['hosts', i, 'name'], message: `"${h.name}" is also host ${names.get(h.name)}'s name`, hint: 'give every host its own name'})
    else names.set(h.name, i)
    const a = h.address.toLowerCase()
    if (addresses.has(a)) issues.push({path: ['hosts', i, 'address'], message: `${h.address} is also host ${addresses.get(a)}'s address: two hosts on one machine share its failures`, hint: 'give every host its own address'})
    else addresses.set(a, i)
    if (h.replicas === 0 && !h.etcd) issues.push({path: ['hosts', i, 'replicas'], message: `host "${h.name}" runs nothing: no replica and no etcd member`, hint: 'give it replicas: 1, or etcd: true (a witness), or remove it'})
  })
  const total = hosts.reduce((n, h) => n + h.replicas, 0)
  if (total !== p.replicas) {
    issues.push({path: ['replicas'], related: ['hosts'], message: `is ${p.replicas}, but the hosts run ${total} replica${total === 1 ? '' : 's'} between them`, hint: `set replicas: ${total}, or change hosts[].replicas to add up to ${p.replicas}`})
  }
  if (hosts.filter(h => h.replicas > 0).length < 2) issues.push({path: ['hosts'], message: 'puts every replica on one host: losing it loses them all', hint: 'give at least two hosts replicas: 1 or more'})
  if (p.failover.lease !== 'etcd') {
    issues.push({path: ['failover', 'lease'], message: `is ${p.failover.lease}, which one host holds: with hosts the lease must be one every host reaches`, hint: 'set failover.lease: etcd and list the members in failover.etcd.endpoints'})
  }
  if (sharedContextBackend === 'sqlite') {
    const path = typeof p.nodeRed.contextStorage === 'string' ? ['nodeRed', 'contextStorage'] : ['nodeRed', 'contextStorage', 'shared', 'backend']
    issues.push({path, message: 'a sqlite shared context is a file on one host: each host would keep its own, and the replicas on different hosts would not share it', hint: 'use shared: {backend: postgres} with a PostgreSQL every host reaches (its connection string in the variable shared.connectionStringEnv names)'})
  }
  if (p.mqtt.bundled) issues.push({path: ['mqtt', 'bundled'], message: 'a bundled broker would run on each host, each with its own subscribers and queues', hint: 'remove mqtt.bundled and set mqtt.broker to a broker every host reaches'})
  const members = hosts.filter(h => h.etcd)
  if (members.length === 2) {
    const at = hosts.findIndex((h, i) => h.etcd && i > hosts.findIndex(x => x.etcd))
    issues.push({path: ['hosts', at, 'etcd'], message: 'makes two etcd members: a quorum of two is both, so losing either host stops the lease on the other', hint: 'run three members: add a small witness host {name: witness, address: ..., replicas: 0, etcd: true}'})
  }
  const endpoints = new Set(p.failover.etcd?.endpoints.map(e => e.replace(/\/+$/, '').toLowerCase()) ?? [])
  if (p.failover.lease === 'etcd') {
    hosts.forEach((h, i) => {
      if (h.etcd && !endpoints.has(etcdClientUrl(h).toLowerCase())) {
        issues.push({path: ['hosts', i, 'etcd'], message: `runs an etcd member at ${etcdClientUrl(h)}, which failover.etcd.endpoints does not list: the agents would not use it`, hint: `add ${etcdClientUrl(h)} to failover.etcd.endpoints`})
      }
    })
  }
  return issues
}
