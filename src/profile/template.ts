import {LEASE_BACKENDS} from '../agent/lease/backends/index.js'
import {DEFAULT_TIMINGS, defaultLeaseBackend} from './defaults.js'
import type {ModeId} from '../modes/index.js'

/** What `ff-ha init` asks for (the profile's main choices). */
export interface InitChoices {
  name: string
  target: 'compose' | 'kubernetes'
  mode: ModeId
  replicas: number
  flows: string
  /** A broker URL, "bundled" (compose: ff-ha adds a Mosquitto service), or undefined (no MQTT). */
  broker?: string
}

export const BUNDLED_BROKER_URL = 'mqtt://mosquitto:1883'

/** Where editors find the profile's JSON Schema (shipped in the package as schemas/ff-ha.schema.json). */
export function schemaUrl(version: string): string {
  return `https://unpkg.com/ff-ha@${version}/schemas/ff-ha.schema.json`
}

const q = (s: string) => JSON.stringify(s)

/** ff-ha.yaml as init writes it: the choices as keys, the other sections commented with their defaults. */
export function profileYaml(c: InitChoices, version: string): string {
  const lease = defaultLeaseBackend(c.target)
  const t = DEFAULT_TIMINGS[lease]
  const bundled = c.broker === 'bundled'
  const lines = [
    `# yaml-language-server: $schema=${schemaUrl(version)}`,
    '# The HA profile: ff-ha render turns it into the manifests; ff-ha deploy, agent and failover-test read it.',
    '',
    '# A DNS-1123 label: the replicas are <name>-0, <name>-1, ...',
    `name: ${c.name}`,
    '# hot-spare: one active replica runs flows, warm spares take over. load-balanced: every replica runs flows.',
    `mode: ${c.mode}`,
    '# compose (Docker Compose on one host) or kubernetes.',
    `target: ${c.target}`,
    `replicas: ${c.replicas}`,
    '',
    '# Node-RED in every replica.',
    'nodeRed:',
    '  # The tag of the official nodered/node-red image the replica image is built FROM.',
    '  version: 4.1.8',
    '  # The flows file that `ff-ha deploy` sends to every replica.',
    `  flows: ${q(c.flows)}`,
    '  # memory (lost at a failover), localfilesystem (per replica: never shared), or shared (one store for every replica,',
    '  # fenced and with atomic operations; sqlite on compose, PostgreSQL on kubernetes: docs/design/shared-context.md).',
    '  contextStorage: memory',
    '  # adminRoot: /',
    '  # Extra Node-RED settings (JSON values), merged into the generated settings.js.',
    '  # settings: {}',
    '',
    '# Failover timings. The defaults suit the lease backend; leaseDurationMs > renewDeadlineMs > 1.2 x retryPeriodMs.',
    'failover:',
    `  # ${new Intl.ListFormat('en', {type: 'disjunction'}).format(LEASE_BACKENDS.map(b => b.summary))}.`,
    `  lease: ${lease}`,
    `  # leaseDurationMs: ${t.leaseDurationMs}`,
    `  # renewDeadlineMs: ${t.renewDeadlineMs}`,
    `  # retryPeriodMs: ${t.retryPeriodMs}`,
    `  # healthIntervalMs: ${t.healthIntervalMs}`,
    `  # healthTimeoutMs: ${t.healthTimeoutMs}`,
    `  # healthFailureThreshold: ${t.healthFailureThreshold}`,
    '  # The agent status port (/healthz, /active, /status, /metrics).',
    '  # statusPort: 9880',
    '',
    'http:',
    '  port: 1880',
    '  editor: true',
    '  # Cookie-based sticky sessions for the editor and Dashboard (load-balanced).',
    '  sticky: true',
    '',
  ]
  if (c.broker) {
    lines.push(
      'mqtt:',
      `  broker: ${q(bundled ? BUNDLED_BROKER_URL : c.broker)}`,
      ...(bundled ? ['  # A Mosquitto service in compose.yaml.', '  bundled: true'] : []),
      '  # Shared-subscription group for load-balanced mode ($share/<group>/<topic>); default: the name.',
      `  # shareGroup: ${c.name}`,
      '',
    )
  } else {
    lines.push('# mqtt:', '#   broker: "mqtt://broker:1883"', '#   bundled: false   # compose: add a Mosquitto service', '')
  }
  if (c.target === 'kubernetes') {
    lines.push(
      'kubernetes:',
      '  namespace: default',
      '  # An Ingress is rendered when a host is given.',
      '  # ingress: {host: node-red.example.com, className: nginx, tlsSecret: node-red-tls}',
      '  # storageClass: standard',
      '  storageSize: 1Gi',
      '  resources:',
      '    requests: {cpu: 100m, memory: 256Mi}',
      '    limits: {memory: 512Mi}',
      '  spreadAcrossZones: true',
      '',
    )
  } else {
    lines.push('compose:', `  # project: ${c.name}`, '  ports:', '    # The host port HAProxy publishes.', '    http: 1880', '    # stats: 8404', '')
  }
  lines.push(
    '# Names only, never values: the environment variables (compose) or the Kubernetes Secret that hold them.',
    'secrets:',
    '  adminTokenEnv: FF_HA_ADMIN_TOKEN',
    '  credentialSecretEnv: FF_HA_CREDENTIAL_SECRET',
    ...(c.target === 'kubernetes' ? [`  # A Secret with keys admin-token and credential-secret.`, `  kubernetesSecret: ${c.name}-secrets`] : []),
    '',
    '# What ff-ha failover-test holds the set-up to.',
    'slo:',
    '  maxMttrMs: 5000',
    '  maxLostMessages: 0',
    '  maxDualActiveMs: 0',
  )
  return lines.join('\n') + '\n'
}
