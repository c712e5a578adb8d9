// One Compose project per host (profile `hosts`, issue #13; docs/design/multi-host.md). Each host's project
// runs that host's replicas, an HAProxy that knows every replica on every host (its own by service name, the
// others by the host's address and the replica's published ports), and the host's etcd member when it has one.
// A witness host (no replicas) runs only its etcd member. The lease is etcd: the agents of every host reach
// every member.
import {stringify} from 'yaml'
import {InputError} from '../errors.js'
import {etcdClientUrl, etcdPeerUrl, replicasByHost, type Host} from '../profile/hosts.js'
import type {Profile} from '../profile/schema.js'
import {HAPROXY_SERVICE, checkHostPorts, replicaHostPorts, replicaService, templateServices, type Service} from './compose.js'
import {renderImageContext} from './dockerfile.js'
import {renderHaproxyConfig} from './haproxy.js'
import {COMPOSE_LABELS, RENDERED, replicaNames} from './names.js'
import {renderSettings, settingsValuesFromProfile} from '../model/settings.js'

export const ETCD_SERVICE = 'etcd'

/** The host named `name`, or an input error listing the profile's hosts. */
export function hostNamed(profile: Profile, name: string): Host {
  const hosts = profile.hosts
  if (!hosts) throw new InputError(`--host ${name}: the profile lists no hosts`, 'add hosts: [{name, address, replicas, etcd}] to the profile (docs/design/multi-host.md), or render without --host')
  const host = hosts.find(h => h.name === name)
  if (!host) throw new InputError(`--host ${name}: the profile has no such host`, `the hosts are ${hosts.map(h => h.name).join(', ')}`)
  return host
}

/** Every file of one host's project, keyed by its path in that host's folder (no headers yet). */
export function renderHostFiles(profile: Profile, host: Host, profileText: string, version: string): Record<string, string> {
  checkHostPorts(profile)
  const mine = replicasByHost(profile).get(host.name) ?? []
  const files: Record<string, string> = {[RENDERED.compose]: usage(profile, host) + stringify(hostProject(profile, host, version), {lineWidth: 0, aliasDuplicateObjects: false})}
  if (mine.length === 0) return files
  return {
    ...files,
    [RENDERED.settings]: renderSettings(settingsValuesFromProfile(profile)),
    [RENDERED.profile]: profileText.endsWith('\n') ? profileText : `${profileText}\n`,
    ...renderImageContext(profile, version),
    [RENDERED.haproxy]: renderHaproxyConfig(profile, {servers: haproxyServers(profile, host), bindPort: profile.http.port, resolvers: true}),
  }
}

function usage(profile: Profile, host: Host): string {
  const p = `${profile.compose.project}-${host.name}`
  const what = host.replicas > 0 ? `${host.replicas} replica${host.replicas === 1 ? '' : 's'}, HAProxy${host.etcd ? ' and an etcd member' : ''}` : 'the etcd member (witness)'
  return `# Host ${host.name} (${host.address}): ${what}. Start on that host, from this directory${host.replicas > 0 ? ', with the secrets in .env' : ''}:\n#   docker compose -p ${p} up -d${host.replicas > 0 ? ' --build' : ''}     or     docker-compose -p ${p} up -d${host.replicas > 0 ? ' --build' : ''}\n`
}

/** Every replica as this host's HAProxy reaches it: its own by service name, the others' at their host. */
function haproxyServers(profile: Profile, host: Host) {
  const names = replicaNames(profile)
  const byHost = replicasByHost(profile)
  return (profile.hosts ?? []).flatMap(h =>
    (byHost.get(h.name) ?? []).map(i => {
      if (h.name === host.name) return {name: names[i], address: names[i], port: profile.http.port, checkPort: profile.failover.statusPort}
      const published = replicaHostPorts(profile, i)
      return {name: names[i], address: h.address, port: published.http, checkPort: published.status}
    }),
  )
}

/** IPv4 literals bind the published ports to that address; a name (or IPv6) binds every address of the host. */
function bindPrefix(host: Host): string {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host.address) ? `${host.address}:` : ''
}

function hostProject(profile: Profile, host: Host, version: string): Record<string, unknown> {
  const t = templateServices()
  const names = replicaNames(profile)
  const mine = replicasByHost(profile).get(host.name) ?? []
  const services: Record<string, Service> = {}
  const volumes: Record<string, unknown> = {}
  const bind = bindPrefix(host)
  for (const i of mine) {
    const service = replicaService(t.replica, profile, names[i], i, version)
    // The other hosts' proxies reach this replica's Node-RED and agent here (the admin API needs the shared
    // token, the status server the status token): publish on the host's address, not its loopback.
    const published = replicaHostPorts(profile, i)
    service.ports = [`${bind}${published.http}:${profile.http.port}`, `${bind}${published.status}:${profile.failover.statusPort}`]
    services[names[i]] = service
    volumes[`${names[i]}-data`] = {}
  }
  if (mine.length > 0) {
    services[HAPROXY_SERVICE] = {
      ...t.haproxy,
      ports: [`${profile.compose.ports.http}:${profile.http.port}`],
      labels: {[COMPOSE_LABELS.profile]: profile.name},
      depends_on: Object.fromEntries(mine.map(i => [names[i], {condition: 'service_started'}])),
      mem_limit: profile.compose.memory.haproxy,
    }
  }
  if (host.etcd) {
    services[ETCD_SERVICE] = etcdMember(profile, host)
    volumes['etcd-data'] = {}
  }
  return {services, volumes}
}

/**
 * This host's etcd member. The cluster is the hosts with `etcd: true`, bootstrapped together (`new`) with a
 * token of the profile's name. Heartbeat 100 ms and election timeout 500 ms (etcd's defaults are 100 ms and
 * 1 s): a leader election then fits inside the etcd lease's renew deadline (src/agent/lease/backends/etcd.ts).
 * Pre-vote (off by default in etcd 3.4): without it a member whose host was partitioned away deposes the
 * leader when it comes back, and the active is fenced for nothing (measured by the hosts drill). Compaction
 * every hour: a holder writes about 4 revisions a second, which without it fill etcd's 2 GB quota in weeks.
 */
function etcdMember(profile: Profile, host: Host): Service {
  const members = (profile.hosts ?? []).filter(h => h.etcd)
  const bind = bindPrefix(host)
  return {
    image: profile.compose.etcdImage,
    command: [
      'etcd',
      '--name', host.name,
      '--data-dir', '/var/lib/etcd',
      '--listen-client-urls', 'http://0.0.0.0:2379',
      '--advertise-client-urls', etcdClientUrl(host),
      '--listen-peer-urls', 'http://0.0.0.0:2380',
      '--initial-advertise-peer-urls', etcdPeerUrl(host),
      '--initial-cluster', members.map(m => `${m.name}=${etcdPeerUrl(m)}`).join(','),
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', profile.name,
      '--heartbeat-interval', '100',
      '--election-timeout', '500',
      '--pre-vote=true',
      '--auto-compaction-mode', 'periodic',
      '--auto-compaction-retention', '1h',
    ],
    ports: [`${bind}2379:2379`, `${bind}2380:2380`],
    volumes: ['etcd-data:/var/lib/etcd'],
    labels: {[COMPOSE_LABELS.profile]: profile.name},
    restart: 'unless-stopped',
    stop_grace_period: '10s',
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    mem_limit: '256m',
  }
}
