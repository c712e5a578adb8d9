import {stringify} from 'yaml'
import type {Profile} from '../profile/schema.js'
import {CONTAINER, RENDERED, cliVersion, replicaImage} from './names.js'

type Obj = Record<string, unknown>

/** Keys in the Kubernetes Secret that `secrets.kubernetesSecret` names (created by the user, never rendered). */
export const SECRET_KEYS = {adminToken: 'admin-token', credentialSecret: 'credential-secret'} as const

export function selectorLabels(profile: Profile): Record<string, string> {
  return {'app.kubernetes.io/name': 'node-red', 'app.kubernetes.io/instance': profile.name}
}

export function commonLabels(profile: Profile): Record<string, string> {
  return {
    ...selectorLabels(profile),
    'app.kubernetes.io/component': 'replica',
    'app.kubernetes.io/part-of': profile.name,
    'app.kubernetes.io/managed-by': 'ff-ha',
    'app.kubernetes.io/version': profile.nodeRed.version,
  }
}

export const configMapName = (p: Profile) => `${p.name}-config`
export const headlessServiceName = (p: Profile) => `${p.name}-headless`

function meta(profile: Profile, name: string, extra: Obj = {}): Obj {
  return {name, namespace: profile.kubernetes.namespace, labels: commonLabels(profile), ...extra}
}

/** Every Kubernetes object ff-ha renders, keyed by file name. */
export function kubernetesObjects(profile: Profile, version = cliVersion()): Record<string, Obj> {
  const objects: Record<string, Obj> = {}
  if (profile.mode === 'hot-spare') Object.assign(objects, leaseRbac(profile))
  objects['statefulset.yaml'] = statefulSet(profile, version)
  objects['service.yaml'] = service(profile)
  objects['service-headless.yaml'] = headlessService(profile)
  if (profile.mode === 'load-balanced') objects['pdb.yaml'] = podDisruptionBudget(profile)
  if (profile.kubernetes.ingress.host) objects['ingress.yaml'] = ingress(profile)
  return objects
}

/** The YAML files plus kustomization.yaml (which generates the ConfigMap from the rendered settings and profile). */
export function renderKubernetesFiles(profile: Profile, version = cliVersion()): Record<string, string> {
  const objects = kubernetesObjects(profile, version)
  const files: Record<string, string> = {}
  for (const [file, obj] of Object.entries(objects)) files[file] = stringify(obj, {lineWidth: 0, aliasDuplicateObjects: false})
  files[RENDERED.kustomization] = stringify(kustomization(profile, Object.keys(objects)), {lineWidth: 0, aliasDuplicateObjects: false})
  return files
}

function kustomization(profile: Profile, resources: string[]): Obj {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: profile.kubernetes.namespace,
    resources,
    // Generated with a content hash in its name, so a change to the settings or the profile is a new
    // ConfigMap and the StatefulSet's pod template changes with it.
    configMapGenerator: [
      {
        name: configMapName(profile),
        files: [`ff-ha.yaml=${RENDERED.profile}`, `settings.js=${RENDERED.settings}`],
        options: {labels: commonLabels(profile)},
      },
    ],
  }
}

function leaseRbac(profile: Profile): Record<string, Obj> {
  const name = `${profile.name}-agent`
  return {
    'serviceaccount.yaml': {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(profile, name)},
    // The agent reads, creates and renews its Lease; nothing else, nothing cluster-wide. (create cannot be
    // limited by resourceNames, so the rules name the resource type only.)
    'role.yaml': {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(profile, name),
      rules: [{apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update']}],
    },
    'rolebinding.yaml': {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(profile, name),
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name},
      subjects: [{kind: 'ServiceAccount', name, namespace: profile.kubernetes.namespace}],
    },
  }
}

function env(profile: Profile): Obj[] {
  const field = (fieldPath: string) => ({valueFrom: {fieldRef: {fieldPath}}})
  const secret = (key: string) => ({valueFrom: {secretKeyRef: {name: profile.secrets.kubernetesSecret, key}}})
  return [
    {name: 'FF_HA_REPLICA', ...field('metadata.name')},
    {name: 'POD_NAMESPACE', ...field('metadata.namespace')},
    {name: 'FF_HA_PROFILE', value: CONTAINER.profile},
    {name: 'FF_HA_SETTINGS', value: CONTAINER.settings},
    {name: 'FF_HA_USER_DIR', value: CONTAINER.userDir},
    {name: 'FF_HA_STATUS_PORT', value: String(profile.failover.statusPort)},
    {name: 'FF_HA_NODE_RED_PORT', value: String(profile.http.port)},
    {name: profile.secrets.adminTokenEnv, ...secret(SECRET_KEYS.adminToken)},
    {name: profile.secrets.credentialSecretEnv, ...secret(SECRET_KEYS.credentialSecret)},
    // The root filesystem is read-only; npm and Node-RED write scratch files under /tmp.
    {name: 'NPM_CONFIG_CACHE', value: '/tmp/.npm'},
  ]
}

function probes(profile: Profile): Obj {
  const get = (path: string) => ({httpGet: {path, port: 'status'}})
  const hotSpare = profile.mode === 'hot-spare'
  const periodSeconds = Math.max(1, Math.round(profile.failover.healthIntervalMs / 1000))
  return {
    // Hot-spare: Ready only while this replica holds the lease and runs flows, so the Service routes only
    // to the active one. Checked every second and dropped at the first failure: a handover must show fast.
    readinessProbe: hotSpare
      ? {...get('/active'), periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 1}
      : {...get('/healthz'), periodSeconds, timeoutSeconds: 1, failureThreshold: profile.failover.healthFailureThreshold, successThreshold: 1},
    // The agent itself kills and restarts a hung Node-RED; liveness catches a hung agent.
    livenessProbe: {...get('/healthz'), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3},
    startupProbe: {...get('/healthz'), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 90},
  }
}

function resources(profile: Profile): Obj {
  const clean = (r: Obj) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))
  const {requests, limits} = profile.kubernetes.resources
  return {requests: clean(requests), limits: clean(limits)}
}

function statefulSet(profile: Profile, version: string): Obj {
  const hotSpare = profile.mode === 'hot-spare'
  const selector = selectorLabels(profile)
  const graceSeconds = Math.max(30, Math.ceil((profile.failover.leaseDurationMs + 10_000) / 1000))
  const affinity = {
    // One replica per node: losing (or draining) a node never takes two replicas. A one-node cluster leaves
    // the second replica Pending: HA needs two nodes.
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: selector}, topologyKey: 'kubernetes.io/hostname'}],
    },
  }
  const spread = profile.kubernetes.spreadAcrossZones
    ? {topologySpreadConstraints: [{maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: {matchLabels: selector}}]}
    : {}
  const claim: Obj = {
    metadata: {name: 'data', labels: selector},
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(profile.kubernetes.storageClass ? {storageClassName: profile.kubernetes.storageClass} : {}),
      resources: {requests: {storage: profile.kubernetes.storageSize}},
    },
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(profile, profile.name),
    spec: {
      serviceName: headlessServiceName(profile),
      replicas: profile.replicas,
      // Replicas do not depend on each other's order: start them all at once.
      podManagementPolicy: 'Parallel',
      // Hot-spare: a spare is never Ready (readiness is /active), and a RollingUpdate would wait for it
      // forever. Roll out by deleting the spares first, then the active (one handover): see the README.
      updateStrategy: hotSpare ? {type: 'OnDelete'} : {type: 'RollingUpdate', rollingUpdate: {partition: 0}},
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: commonLabels(profile)},
        spec: {
          ...(hotSpare ? {serviceAccountName: `${profile.name}-agent`} : {automountServiceAccountToken: false}),
          terminationGracePeriodSeconds: graceSeconds,
          securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: {type: 'RuntimeDefault'}},
          affinity,
          ...spread,
          containers: [
            {
              name: 'node-red',
              image: replicaImage(profile, version),
              imagePullPolicy: 'IfNotPresent',
              command: ['ff-ha', 'agent'],
              args: ['--replica', '$(FF_HA_REPLICA)'],
              env: env(profile),
              ports: [
                {name: 'http', containerPort: profile.http.port, protocol: 'TCP'},
                {name: 'status', containerPort: profile.failover.statusPort, protocol: 'TCP'},
              ],
              ...probes(profile),
              resources: resources(profile),
              securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}},
              volumeMounts: [
                {name: 'data', mountPath: CONTAINER.userDir},
                {name: 'config', mountPath: CONTAINER.configDir, readOnly: true},
                {name: 'tmp', mountPath: '/tmp'},
              ],
            },
          ],
          volumes: [
            {name: 'config', configMap: {name: configMapName(profile)}},
            {name: 'tmp', emptyDir: {}},
          ],
        },
      },
      volumeClaimTemplates: [claim],
    },
  }
}

function service(profile: Profile): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(profile, profile.name),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(profile),
      ports: [{name: 'http', port: profile.http.port, targetPort: 'http', protocol: 'TCP'}],
    },
  }
}

function headlessService(profile: Profile): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(profile, headlessServiceName(profile)),
    spec: {
      clusterIP: 'None',
      // Spares are not Ready in hot-spare mode but must still have DNS names (deploy reaches every replica).
      publishNotReadyAddresses: true,
      selector: selectorLabels(profile),
      ports: [
        {name: 'http', port: profile.http.port, targetPort: 'http', protocol: 'TCP'},
        {name: 'status', port: profile.failover.statusPort, targetPort: 'status', protocol: 'TCP'},
      ],
    },
  }
}

// Load-balanced only. In hot-spare mode only the active replica is ever Ready, so any budget above zero
// would block every drain of the active's node for good (the PDB counts Ready pods); one replica per node
// (anti-affinity) is what keeps a drain from taking two.
function podDisruptionBudget(profile: Profile): Obj {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(profile, profile.name),
    spec: {maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: {matchLabels: selectorLabels(profile)}},
  }
}

function ingress(profile: Profile): Obj {
  const {host, className, tlsSecret} = profile.kubernetes.ingress
  const annotations: Record<string, string> = {}
  if (profile.http.editor) {
    // The editor's comms websocket: keep idle connections open (ingress-nginx defaults to 60 s).
    annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'] = '3600'
    annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'] = '3600'
    if (profile.http.sticky) {
      annotations['nginx.ingress.kubernetes.io/affinity'] = 'cookie'
      annotations['nginx.ingress.kubernetes.io/affinity-mode'] = 'persistent'
      annotations['nginx.ingress.kubernetes.io/session-cookie-name'] = 'FFHA_REPLICA'
    }
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(profile, profile.name, Object.keys(annotations).length ? {annotations} : {}),
    spec: {
      ...(className ? {ingressClassName: className} : {}),
      ...(tlsSecret ? {tls: [{hosts: [host], secretName: tlsSecret}]} : {}),
      rules: [
        {
          host,
          http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name: profile.name, port: {name: 'http'}}}}]},
        },
      ],
    },
  }
}
