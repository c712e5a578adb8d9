import {z} from 'zod'

// The HA profile (ff-ha.yaml). Every object is strict: an unknown key is an error with a did-you-mean.
// Nested sections use prefault({}) so that their own defaults apply when the section is left out (zod 4's
// default() would take {} as is). Defaults that depend on other fields (timings per lease backend) are
// left undefined here and filled in by resolveProfile().

const dns1123Label = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit')
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')

const positiveMs = z.number().int().positive()

export const nodeRedSchema = z.strictObject({
  /** Node-RED version: the tag of the official nodered/node-red image (Compose, Kubernetes). */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a Node-RED version like 4.1.8').default('4.1.8'),
  /** Full image reference; overrides the image ff-ha builds FROM nodered/node-red:<version>. */
  image: z.string().min(1).optional(),
  /** What the replica image installs as ff-ha: the package that `ff-ha render` packs from the running
   * ff-ha into the build context (pack), or ff-ha@<this version> from the npm registry (registry). */
  ffHaSource: z.enum(['pack', 'registry']).default('pack'),
  /** The flows file to deploy (path relative to the profile). */
  flows: z.string().min(1).default('flows.json'),
  /** Node-RED's own flowFile name inside each userDir: explicit, else it is flows_<hostname>.json per pod. */
  flowFile: z.string().min(1).default('flows.json'),
  /** Context store: memory (lost at failover) or localfilesystem (per replica, never shared). */
  contextStorage: z.enum(['memory', 'localfilesystem']).default('memory'),
  /** httpAdminRoot. */
  adminRoot: z.string().startsWith('/', 'must start with "/"').default('/'),
  /** Extra settings merged into the generated settings.js (JSON values only). */
  settings: z.record(z.string(), z.unknown()).default({}),
})

export const failoverSchema = z.strictObject({
  /** Lease backend. Defaults: sqlite on compose, kubernetes on kubernetes. */
  lease: z.enum(['sqlite', 'kubernetes']).optional(),
  leaseDurationMs: positiveMs.optional(),
  renewDeadlineMs: positiveMs.optional(),
  retryPeriodMs: positiveMs.optional(),
  healthIntervalMs: positiveMs.optional(),
  healthTimeoutMs: positiveMs.optional(),
  healthFailureThreshold: z.number().int().min(1).optional(),
  /**
   * Where the sqlite lease file lives inside the replicas. Its directory is the volume that all replicas
   * share, so it must not be under the per-replica userDir (/data).
   */
  leaseFile: z.string().regex(/^\/.+\/[^/]+$/, 'must be an absolute file path like /var/lib/ff-ha/lease.db').default('/var/lib/ff-ha/lease.db'),
  /**
   * host:port that the active replica must reach to keep its lease (the proxy, the broker, a gateway).
   * A file lease on one host is still reachable from a replica cut off the network; without a witness such
   * a replica would hold the lease while nobody can reach it. Unset: no witness check.
   */
  witness: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').optional(),
  /** Port of the agent's status server (/healthz, /active, /status, /metrics). */
  statusPort: z.number().int().min(1).max(65535).default(9880),
})

export const httpSchema = z.strictObject({
  /** Node-RED's uiPort inside each replica. */
  port: z.number().int().min(1).max(65535).default(1880),
  /** Whether the editor is served. */
  editor: z.boolean().default(true),
  /** Cookie-based sticky sessions for the editor and Dashboard (load-balanced). */
  sticky: z.boolean().default(true),
})

export const mqttSchema = z.strictObject({
  /** Broker URL, e.g. mqtt://mosquitto:1883. */
  broker: z.string().regex(/^(mqtts?|wss?|tcp):\/\/.+/, 'must be a URL like mqtt://host:1883').optional(),
  /** Bundle a Mosquitto broker service (Compose). */
  bundled: z.boolean().default(false),
  /** Shared-subscription group for load-balanced mode ($share/<group>/...). Defaults to the profile name. */
  shareGroup: z.string().regex(/^[^/#+$]+$/, 'must not contain "/", "#", "+" or "$"').optional(),
})

const resourceList = z.strictObject({cpu: z.string().optional(), memory: z.string().optional()})

export const kubernetesSchema = z.strictObject({
  namespace: dns1123Label.default('default'),
  ingress: z
    .strictObject({
      host: z.string().min(1).optional(),
      className: z.string().min(1).optional(),
      tlsSecret: z.string().min(1).optional(),
    })
    .prefault({}),
  storageClass: z.string().min(1).optional(),
  storageSize: z.string().regex(/^\d+(Mi|Gi|Ti)$/, 'must be a quantity like 1Gi').default('1Gi'),
  resources: z
    .strictObject({
      requests: resourceList.prefault({cpu: '100m', memory: '256Mi'}),
      limits: resourceList.prefault({memory: '512Mi'}),
    })
    .prefault({}),
  spreadAcrossZones: z.boolean().default(true),
})

const memoryLimit = z.string().regex(/^\d+[bkmg]$/, 'must be a memory size like 512m')

export const composeSchema = z.strictObject({
  /** Compose project name; defaults to the profile name. */
  project: dns1123Label.optional(),
  /** Published host ports. Replica i publishes Node-RED on 127.0.0.1:(replicaHttp + i) and its agent on
   * 127.0.0.1:(replicaStatus + i): fixed, so ff-ha deploy and failover-test find them again after a restart. */
  ports: z
    .strictObject({
      http: z.number().int().min(1).max(65535).default(1880),
      stats: z.number().int().min(1).max(65535).optional(),
      replicaHttp: z.number().int().min(1).max(65535).default(18801),
      replicaStatus: z.number().int().min(1).max(65535).default(19881),
      /** The bundled broker on the host's loopback (mqtt.bundled). */
      mqtt: z.number().int().min(1).max(65535).default(1883),
    })
    .prefault({}),
  /** Memory limit per container (Compose mem_limit: a number with b, k, m or g). */
  memory: z
    .strictObject({
      replica: memoryLimit.default('512m'),
      haproxy: memoryLimit.default('128m'),
      mosquitto: memoryLimit.default('128m'),
    })
    .prefault({}),
})

export const secretsSchema = z.strictObject({
  /** Environment variable holding the shared admin token that every replica accepts. */
  adminTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('FF_HA_ADMIN_TOKEN'),
  /** Environment variable holding Node-RED's credentialSecret (all replicas must share it). */
  credentialSecretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('FF_HA_CREDENTIAL_SECRET'),
  /** Kubernetes Secret with keys admin-token and credential-secret; defaults to <name>-secrets. */
  kubernetesSecret: dns1123Label.optional(),
})

export const sloSchema = z.strictObject({
  maxMttrMs: positiveMs.default(5000),
  maxLostMessages: z.number().int().min(0).default(0),
  maxDualActiveMs: z.number().int().min(0).default(0),
})

export const replicaTargetSchema = z.strictObject({
  name: z.string().min(1),
  url: z.string().url(),
  /** Agent status URL (for roles); optional. */
  agentUrl: z.string().url().optional(),
})

export const deploySchema = z.strictObject({
  /** Where `ff-ha deploy` finds the replicas. Default: the profile's target. */
  discovery: z.enum(['static', 'compose', 'kubernetes', 'local']).optional(),
  /** For discovery: static. */
  replicas: z.array(replicaTargetSchema).optional(),
})

export const profileSchema = z.strictObject({
  name: dns1123Label,
  mode: z.enum(['hot-spare', 'load-balanced']).default('hot-spare'),
  target: z.enum(['compose', 'kubernetes']).default('compose'),
  replicas: z.number().int().min(2, 'must be at least 2 (HA needs a second replica)').max(20).default(2),
  nodeRed: nodeRedSchema.prefault({}),
  failover: failoverSchema.prefault({}),
  http: httpSchema.prefault({}),
  mqtt: mqttSchema.prefault({}),
  kubernetes: kubernetesSchema.prefault({}),
  compose: composeSchema.prefault({}),
  secrets: secretsSchema.prefault({}),
  slo: sloSchema.prefault({}),
  deploy: deploySchema.prefault({}),
})

export type ProfileInput = z.input<typeof profileSchema>
export type ParsedProfile = z.output<typeof profileSchema>
export type HaMode = ParsedProfile['mode']
export type LeaseBackend = 'sqlite' | 'kubernetes'

export interface Timings {
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
  healthIntervalMs: number
  healthTimeoutMs: number
  healthFailureThreshold: number
}

/** A profile with every derived default filled in: what renderers, the agent and the drill read. */
export type Profile = Omit<ParsedProfile, 'failover' | 'mqtt' | 'compose' | 'secrets'> & {
  failover: ParsedProfile['failover'] & Timings & {lease: LeaseBackend}
  mqtt: ParsedProfile['mqtt'] & {shareGroup: string}
  compose: ParsedProfile['compose'] & {project: string}
  secrets: ParsedProfile['secrets'] & {kubernetesSecret: string}
}
