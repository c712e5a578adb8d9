import {z} from 'zod'
import {DEFAULT_MODE, MODE_IDS, type ModeId} from '../modes/index.js'
import {LEASE_BACKEND_IDS, leaseProfileFields, type LeaseBackendId} from '../agent/lease/backends/index.js'
import {brokerUrl, containerPath, dns1123Label, dns1123Subdomain, hostPort, httpUrl, imageReference, ingressHost, jsonValue, kubernetesQuantity, singleLine, urlPathPrefix} from './types.js'
import {ENV} from '../model/env.js'
import {hostSchema} from './hosts.js'
import {SINGLETON_NAME, SINGLETON_NAME_HINT} from '../agent/singleton-names.js'

// The HA profile (ff-ha.yaml). Every object is strict: an unknown key is an error with a did-you-mean.
// Nested sections use prefault({}) so that their own defaults apply when the section is left out (zod 4's
// default() would take {} as is). Defaults that depend on other fields (timings per lease backend) are
// left undefined here and filled in by resolveProfile().

const positiveMs = z.number().int().positive()

/** Node-RED's built-in stores, and ff-ha's shared one. */
export const contextStoreKind = z.enum(['memory', 'localfilesystem', 'shared'])

/** ff-ha's shared context store (nodes/context/store): where its data lives. */
export const sharedContextSchema = z.strictObject({
  /** sqlite: one file on a volume every replica of one host mounts (compose). postgres: several hosts,
   * Kubernetes. Default: sqlite on compose, postgres on kubernetes. */
  backend: z.enum(['sqlite', 'postgres']).optional(),
  /** sqlite: the database file inside each replica; its directory becomes a volume all replicas share. */
  path: containerPath.default('/var/lib/ff-ha/context.db'),
  /** postgres: the environment variable holding the connection string (never the value itself). */
  connectionStringEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('FF_HA_CONTEXT_DATABASE_URL'),
})

const contextStorageObject = z.strictObject({
  /** The store flow.get(key) uses without a store name. */
  default: contextStoreKind.default('memory'),
  /** The shared store, named "shared" (flow.get(key, 'shared')) when it is not the default. */
  shared: sharedContextSchema.optional(),
})

export const nodeRedSchema = z.strictObject({
  /** Node-RED version: the tag of the official nodered/node-red image (Compose, Kubernetes). */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a Node-RED version like 4.1.8').default('4.1.8'),
  /** Full image reference; overrides the image ff-ha builds FROM nodered/node-red:<version>. */
  image: imageReference.optional(),
  /** What the replica image installs as ff-ha: the package that `ff-ha render` packs from the running
   * ff-ha into the build context (pack), or ff-ha@<this version> from the npm registry (registry). */
  ffHaSource: z.enum(['pack', 'registry']).default('pack'),
  /** The flows file to deploy (path relative to the profile). */
  flows: singleLine.default('flows.json'),
  /** Node-RED's own flowFile name inside each userDir: explicit, else it is flows_<hostname>.json per pod. */
  flowFile: singleLine.default('flows.json'),
  /**
   * Context store: memory (lost at failover), localfilesystem (per replica, never shared), or shared (ff-ha's
   * store that every replica shares, fenced in hot-spare, with atomic operations; docs/design/shared-context.md).
   * The object form keeps another default and adds the shared store by name: {default: memory, shared: {...}}.
   */
  contextStorage: z.union([contextStoreKind, contextStorageObject]).default('memory'),
  /** httpAdminRoot. */
  adminRoot: urlPathPrefix.default('/'),
  /**
   * The largest admin API request Node-RED accepts (its apiMaxLength, bytes or "<n>kb|mb|gb"): a deploy of a
   * larger flows file gets HTTP 413. Node-RED's own default is 5mb.
   */
  apiMaxLength: z.string().regex(/^[1-9]\d*(kb|mb|gb)?$/, 'must be a size like 50mb (bytes, or kb, mb, gb)').default('50mb'),
  /** Extra settings merged into the generated settings.js (JSON values only). */
  settings: z.record(z.string(), jsonValue).default({}),
})

export const failoverSchema = z.strictObject({
  /** Lease backend (src/agent/lease/backends). Default: the backend whose defaultFor is the target. */
  lease: z.enum(LEASE_BACKEND_IDS).optional(),
  leaseDurationMs: positiveMs.optional(),
  renewDeadlineMs: positiveMs.optional(),
  retryPeriodMs: positiveMs.optional(),
  healthIntervalMs: positiveMs.optional(),
  healthTimeoutMs: positiveMs.optional(),
  healthFailureThreshold: z.number().int().min(1).optional(),
  // Each backend's own fields (sqlite: leaseFile), from the registry.
  ...leaseProfileFields(),
  /**
   * host:port that the active replica must reach to keep its lease (the proxy, the broker, a gateway).
   * A file lease on one host is still reachable from a replica cut off the network; without a witness such
   * a replica would hold the lease while nobody can reach it. Unset: no witness check.
   */
  witness: hostPort.optional(),
  /** Port of the agent's status server (/healthz, /active, /status, /metrics). */
  statusPort: z.number().int().min(1).max(65535).default(9880),
  /**
   * The names of the `ff-ha singleton` nodes in the flows (load-balanced mode). Kubernetes: render lets the
   * agents' Role use exactly these singleton leases; a singleton not listed stays in error, never passes.
   * Compose (sqlite): any name works; the list is not needed.
   */
  singletons: z.array(z.string().regex(SINGLETON_NAME, SINGLETON_NAME_HINT)).default([]),
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
  broker: brokerUrl.optional(),
  /** Bundle a Mosquitto broker service (Compose). */
  bundled: z.boolean().default(false),
  /** Shared-subscription group for load-balanced mode ($share/<group>/...). Defaults to the profile name. */
  shareGroup: z.string().regex(/^[^/#+$\s\u0000-\u001f\u007f-\u009f]+$/, 'must not contain "/", "#", "+", "$", spaces or control characters').optional(),
})

const resourceList = z.strictObject({cpu: kubernetesQuantity.optional(), memory: kubernetesQuantity.optional()})

export const kubernetesSchema = z.strictObject({
  namespace: dns1123Label.default('default'),
  /** Render a Namespace object (with the "restricted" Pod Security labels). Off: the namespace must exist. */
  createNamespace: z.boolean().default(false),
  ingress: z
    .strictObject({
      host: ingressHost.optional(),
      /** Which controller serves the host: each gets its own object and cookie stickiness (docs/design/kubernetes.md). */
      controller: z.enum(['ingress-nginx', 'traefik', 'gateway-api', 'other']).default('ingress-nginx'),
      className: dns1123Subdomain.optional(),
      tlsSecret: dns1123Subdomain.optional(),
      /** gateway-api: the Gateway the HTTPRoute attaches to. */
      gateway: z.strictObject({name: dns1123Label, namespace: dns1123Label.optional(), sectionName: dns1123Subdomain.optional()}).optional(),
    })
    .prefault({}),
  /** StorageClass of the data volumes. Unset: the cluster's default StorageClass. */
  storageClass: dns1123Subdomain.optional(),
  storageSize: z.string().regex(/^\d+(Mi|Gi|Ti)$/, 'must be a quantity like 1Gi').default('1Gi'),
  resources: z
    .strictObject({
      requests: resourceList.prefault({cpu: '100m', memory: '256Mi'}),
      limits: resourceList.prefault({memory: '512Mi'}),
    })
    .prefault({}),
  spreadAcrossZones: z.boolean().default(true),
  /** One replica per node: preferred (schedules on a one-node cluster) or required (a spare stays Pending there). */
  antiAffinity: z.enum(['preferred', 'required']).default('preferred'),
  /** Load-balanced: seconds a terminating pod keeps serving while endpoints and proxies forget it. */
  preStopSeconds: z.number().int().min(0).max(120).default(5),
  networkPolicy: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Namespaces allowed to reach Node-RED's port. Default: the profile's and the ingress controller's. */
      httpFrom: z.array(dns1123Label).optional(),
      /** Namespaces allowed to reach the agent's status port (e.g. Prometheus'). Kubelet probes always pass. */
      statusFrom: z.array(dns1123Label).default([]),
      /** Where the Kubernetes API server is (hot-spare's lease): CIDRs, default anywhere on 443 and 6443. */
      apiServer: z.array(z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, 'must be a CIDR like 10.0.0.1/32')).default(['0.0.0.0/0']),
      /** Egress of the flows: any (they reach brokers, databases, HTTP APIs) or none beyond DNS, the lease and the broker. */
      flowEgress: z.enum(['any', 'none']).default('any'),
    })
    .prefault({}),
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
  /** The etcd image of the members that hosts[].etcd runs (several hosts). */
  etcdImage: imageReference.default('quay.io/coreos/etcd:v3.5.17'),
})

export const secretsSchema = z.strictObject({
  /** Environment variable holding the shared admin token that every replica accepts. */
  adminTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default(ENV.adminToken),
  /** Environment variable holding Node-RED's credentialSecret (all replicas must share it). */
  credentialSecretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default(ENV.credentialSecret),
  /** Environment variable holding the bearer token for the agents' /status and /metrics (unset: open). */
  statusTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default(ENV.statusToken),
  /** Kubernetes Secret with keys admin-token and credential-secret; defaults to <name>-secrets. */
  kubernetesSecret: dns1123Label.optional(),
})

export const sloSchema = z.strictObject({
  maxMttrMs: positiveMs.default(5000),
  maxLostMessages: z.number().int().min(0).default(0),
  maxDualActiveMs: z.number().int().min(0).default(0),
})

export const replicaTargetSchema = z.strictObject({
  name: singleLine,
  url: httpUrl,
  /** Agent status URL (for roles); optional. */
  agentUrl: httpUrl.optional(),
})

export const deploySchema = z.strictObject({
  /** Where `ff-ha deploy` finds the replicas. Default: the profile's target. */
  discovery: z.enum(['static', 'compose', 'kubernetes', 'local']).optional(),
  /** For discovery: static. */
  replicas: z.array(replicaTargetSchema).optional(),
})

export const profileSchema = z.strictObject({
  // <name>-<revision hash> labels a StatefulSet's pods and must fit in 63 characters.
  name: dns1123Label.max(52, 'must be at most 52 characters: Kubernetes labels the pods <name>-<revision hash>, at most 63'),
  mode: z.enum(MODE_IDS).default(DEFAULT_MODE),
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
  /** Several hosts without Kubernetes: which host runs which replicas and etcd members (compose; src/profile/hosts.ts). */
  hosts: z.array(hostSchema).optional(),
})

export type ProfileInput = z.input<typeof profileSchema>
export type ParsedProfile = z.output<typeof profileSchema>
/** A mode id (the union derived from the registry in src/modes). */
export type HaMode = ModeId
export type LeaseBackend = LeaseBackendId

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
