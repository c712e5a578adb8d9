import {LEASE_BACKENDS, leaseBackend} from '../agent/lease/backends/index.js'
import {leaseTimingChecks} from '../model/lease-timing.js'
import {ENV} from '../model/env.js'
import {modeOf} from '../modes/index.js'
import {contextPlan} from '../model/context-storage.js'
import type {Profile} from './schema.js'
import {replicasUseLease} from '../agent/singleton-names.js'
import {hostsIssues} from './hosts.js'

/** A cross-field problem, at the path of the field that should change. */
export interface ProfileIssue {
  path: (string | number)[]
  message: string
  /** What to change: every profile error carries one. */
  hint: string
  /** The other field the rule compares with: where the error points when `path` is left to its default. */
  related?: (string | number)[]
}

// Node-RED settings that HA depends on: nodeRed.settings is merged last into settings.js, so these would win.
const MANAGED_SETTINGS: Record<string, string> = {
  runtimeState: 'the agent starts and stops flows through the runtime state API',
  adminAuth: 'every replica must accept the shared admin token (secrets.adminTokenEnv)',
  credentialSecret: 'every replica must share it; it comes from secrets.credentialSecretEnv',
  flowFile: 'use nodeRed.flowFile',
  httpAdminRoot: 'use nodeRed.adminRoot',
  contextStorage: 'use nodeRed.contextStorage',
  uiPort: 'use http.port',
  uiHost: `the replicas listen on every address (${ENV.nodeRedHost})`,
  disableEditor: 'use http.editor',
  userDir: 'the agent passes the userDir (/data in the rendered replicas)',
}

// Rules that one field's schema cannot see. Each says why, so the user knows which side to change.
export function crossFieldIssues(p: Profile): ProfileIssue[] {
  const issues: ProfileIssue[] = []
  const f = p.failover
  const mode = modeOf(p.mode)
  const lease = leaseBackend(f.lease)
  if (replicasUseLease(p, mode.singleActive) && !lease.targets.includes(p.target)) {
    const serving = LEASE_BACKENDS.filter(b => b.targets.includes(p.target)).map(b => b.id)
    issues.push(lease.wrongTarget?.(p.target) ?? {path: ['failover', 'lease'], message: `${lease.id} cannot be the lease on ${p.target}`, hint: `use ${serving.join(' or ')}, or leave failover.lease out`})
  }
  for (const t of leaseTimingChecks(f)) {
    issues.push({path: ['failover', t.field], message: t.message, hint: t.hint, ...(t.related ? {related: ['failover', t.related]} : {})})
  }
  if (!(f.healthTimeoutMs <= f.healthIntervalMs)) {
    issues.push({
      path: ['failover', 'healthTimeoutMs'],
      related: ['failover', 'healthIntervalMs'],
      message: `must be at most healthIntervalMs (${f.healthIntervalMs}): checks would overlap`,
      hint: 'lower healthTimeoutMs or raise healthIntervalMs',
    })
  }
  if (f.statusPort === p.http.port) {
    issues.push({path: ['failover', 'statusPort'], related: ['http', 'port'], message: `must differ from http.port (${p.http.port})`, hint: 'pick another port for one of them, e.g. statusPort: 9880'})
  }
  // The replicas run as a non-root user (node-red, uid 1000, in the official image and the rendered pods).
  for (const [path, port] of [[['http', 'port'], p.http.port], [['failover', 'statusPort'], f.statusPort]] as const) {
    if (port < 1024) issues.push({path: [...path], message: `must be 1024 or above: the replicas run as a non-root user, which cannot listen on port ${port}`, hint: 'use a port from 1024 to 65535; publish a low port on the host with compose.ports.http'})
  }
  if (p.compose.ports.stats !== undefined && p.compose.ports.stats === p.compose.ports.http) {
    issues.push({path: ['compose', 'ports', 'stats'], message: `must differ from compose.ports.http (${p.compose.ports.http}): both are published on the host`, hint: 'pick another host port for the stats page, e.g. 8404'})
  }
  for (const key of Object.keys(p.nodeRed.settings)) {
    const reason = MANAGED_SETTINGS[key]
    if (reason) issues.push({path: ['nodeRed', 'settings', key], message: `is set by ff-ha and cannot be overridden: ${reason}`, hint: `remove ${key} from nodeRed.settings`})
  }
  if (mode.traffic.editorNeedsSticky && p.http.editor && !p.http.sticky) {
    issues.push({
      path: ['http', 'sticky'],
      message: `the editor needs sticky sessions when ${p.mode} (its comms websocket and session live on one replica); set sticky: true or editor: false`,
      hint: 'set http.sticky: true, or http.editor: false',
    })
  }
  if (p.kubernetes.ingress.tlsSecret && !p.kubernetes.ingress.host) {
    issues.push({path: ['kubernetes', 'ingress', 'tlsSecret'], message: 'needs kubernetes.ingress.host: TLS is for a host', hint: 'add kubernetes.ingress.host, or remove tlsSecret'})
  }
  const ing = p.kubernetes.ingress
  if (ing.host && ing.controller === 'gateway-api' && !ing.gateway) issues.push({path: ['kubernetes', 'ingress', 'controller'], message: 'gateway-api needs kubernetes.ingress.gateway', hint: 'add kubernetes.ingress.gateway: {name: <the Gateway the HTTPRoute attaches to>}'})
  if (ing.controller === 'gateway-api' && ing.tlsSecret) issues.push({path: ['kubernetes', 'ingress', 'tlsSecret'], message: 'with gateway-api, TLS is set on the Gateway\'s listener, not on the route', hint: 'remove kubernetes.ingress.tlsSecret and set TLS on the Gateway'})
  if (p.mqtt.bundled && p.target === 'kubernetes') {
    issues.push({path: ['mqtt', 'bundled'], message: 'a bundled broker is rendered for compose only; on kubernetes set mqtt.broker to your broker', hint: 'remove mqtt.bundled and set mqtt.broker: mqtt://<your broker>:1883'})
  }
  if (p.deploy.discovery === 'static' && !p.deploy.replicas?.length) {
    issues.push({path: ['deploy', 'replicas'], message: 'static discovery needs a list of replicas ({name, url})', hint: 'add deploy.replicas: [{name: node-red-0, url: http://host:1880}, ...], or remove deploy.discovery'})
  }
  issues.push(...hostsIssues(p, contextPlan(p).shared?.backend))
  // The lease backend's own rules (sqlite: the lease file's directory).
  if (replicasUseLease(p, mode.singleActive)) issues.push(...(lease.profileIssues?.(p) ?? []))
  issues.push(...sharedContextIssues(p))
  return issues
}

/** The shared context store: a sqlite file is one host's, and its directory becomes a shared volume. */
function sharedContextIssues(p: Profile): ProfileIssue[] {
  const shared = contextPlan(p).shared
  if (!shared) return []
  const c = p.nodeRed.contextStorage
  const at = typeof c === 'string' ? ['nodeRed', 'contextStorage'] : ['nodeRed', 'contextStorage', 'shared', 'backend']
  if (shared.backend === 'sqlite' && p.target === 'kubernetes') {
    return [{path: at, message: 'a sqlite shared context is a file on one host; pods on several nodes cannot share it safely', hint: 'use {default: shared, shared: {backend: postgres}} with the connection string in the environment variable shared.connectionStringEnv names'}]
  }
  if (shared.backend === 'sqlite') {
    const dir = shared.path.slice(0, shared.path.lastIndexOf('/'))
    const under = (d: string) => dir === d || dir.startsWith(`${d}/`)
    if (dir === '' || dir === '/etc' || ['/data', '/etc/ff-ha', '/usr', '/bin', '/lib', '/proc', '/sys', '/dev'].some(under)) {
      const path = typeof c === 'string' ? ['nodeRed', 'contextStorage'] : ['nodeRed', 'contextStorage', 'shared', 'path']
      return [{path, message: `the shared context file must not be in ${dir || '/'}: its directory becomes a volume shared by all replicas`, hint: 'use a path like /var/lib/ff-ha/context.db'}]
    }
  }
  return []
}
