import {stringify} from 'yaml'
import type {Profile} from '../profile/schema.js'
import {CONTAINER, RENDERED, cliVersion, leaseName, replicaImage} from './names.js'
import {yamlTemplate} from './template.js'

type Obj = Record<string, any>
const template = (file: string): Obj => yamlTemplate('kubernetes', file)

/** Keys in the Kubernetes Secret that `secrets.kubernetesSecret` names (created by the user, never rendered). */
export const SECRET_KEYS = {adminToken: 'admin-token', credentialSecret: 'credential-secret', statusToken: 'status-token'} as const

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
  const t = template('kustomization.yaml')
  const [generator] = t.configMapGenerator
  return {
    ...t,
    namespace: profile.kubernetes.namespace,
    resources,
    configMapGenerator: [{...generator, name: configMapName(profile), files: [`ff-ha.yaml=${RENDERED.profile}`, `settings.js=${RENDERED.settings}`], options: {labels: commonLabels(profile)}}],
  }
}

function leaseRbac(profile: Profile): Record<string, Obj> {
  const name = `${profile.name}-agent`
  const [role, binding] = [template('role.yaml'), template('rolebinding.yaml')]
  return {
    'serviceaccount.yaml': {...template('serviceaccount.yaml'), metadata: meta(profile, name)},
    'role.yaml': {...role, metadata: meta(profile, name), rules: role.rules.map((r: Obj) => (r.resourceNames ? {...r, resourceNames: [leaseName(profile)]} : r))},
    'rolebinding.yaml': {
      ...binding,
      metadata: meta(profile, name),
      roleRef: {...binding.roleRef, name},
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
    // The pod's address: the kubelet's probes reach the agent there (its default is 127.0.0.1).
    {name: 'FF_HA_STATUS_HOST', value: '0.0.0.0'},
    {name: 'FF_HA_NODE_RED_PORT', value: String(profile.http.port)},
    ...(profile.mode === 'hot-spare' ? [{name: 'FF_HA_LEASE_NAME', value: leaseName(profile)}] : []),
    {name: profile.secrets.adminTokenEnv, ...secret(SECRET_KEYS.adminToken)},
    {name: profile.secrets.credentialSecretEnv, ...secret(SECRET_KEYS.credentialSecret)},
    // Optional key: when present, /status and /metrics need it as a bearer token.
    {name: profile.secrets.statusTokenEnv, valueFrom: {secretKeyRef: {name: profile.secrets.kubernetesSecret, key: SECRET_KEYS.statusToken, optional: true}}},
    // The root filesystem is read-only; npm and Node-RED write scratch files under /tmp.
    {name: 'NPM_CONFIG_CACHE', value: '/tmp/.npm'},
  ]
}

function readinessProbe(profile: Profile, fromTemplate: Obj): Obj {
  // Hot-spare (the template's): Ready only while this replica holds the lease and runs flows, so the Service
  // routes only to the active one; checked every second and dropped at the first failure.
  if (profile.mode === 'hot-spare') return fromTemplate
  return {
    ...fromTemplate,
    httpGet: {path: '/healthz', port: 'status'},
    periodSeconds: Math.max(1, Math.round(profile.failover.healthIntervalMs / 1000)),
    failureThreshold: profile.failover.healthFailureThreshold,
  }
}

function resources(profile: Profile): Obj {
  const clean = (r: Obj) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))
  const {requests, limits} = profile.kubernetes.resources
  return {requests: clean(requests), limits: clean(limits)}
}

function statefulSet(profile: Profile, version: string): Obj {
  const t = template('statefulset.yaml')
  const hotSpare = profile.mode === 'hot-spare'
  const selector = selectorLabels(profile)
  const pod = t.spec.template.spec
  const container = pod.containers[0]
  const [claim] = t.spec.volumeClaimTemplates
  const [anti] = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution
  const [spread] = pod.topologySpreadConstraints
  const portOf: Record<string, number> = {http: profile.http.port, status: profile.failover.statusPort}
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      ...t.spec,
      serviceName: headlessServiceName(profile),
      replicas: profile.replicas,
      updateStrategy: hotSpare ? t.spec.updateStrategy : {type: 'RollingUpdate', rollingUpdate: {partition: 0}},
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: commonLabels(profile)},
        spec: {
          ...(hotSpare ? {serviceAccountName: `${profile.name}-agent`} : {automountServiceAccountToken: false}),
          terminationGracePeriodSeconds: Math.max(30, Math.ceil((profile.failover.leaseDurationMs + 10_000) / 1000)),
          securityContext: pod.securityContext,
          affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{...anti, labelSelector: {matchLabels: selector}}]}},
          ...(profile.kubernetes.spreadAcrossZones ? {topologySpreadConstraints: [{...spread, labelSelector: {matchLabels: selector}}]} : {}),
          containers: [
            {
              ...container,
              image: replicaImage(profile, version),
              env: env(profile),
              ports: container.ports.map((port: Obj) => ({...port, containerPort: portOf[port.name]})),
              readinessProbe: readinessProbe(profile, container.readinessProbe),
              resources: resources(profile),
            },
          ],
          volumes: pod.volumes.map((v: Obj) => (v.configMap ? {...v, configMap: {name: configMapName(profile)}} : v)),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: {...claim.metadata, labels: selector},
          spec: {
            accessModes: claim.spec.accessModes,
            ...(profile.kubernetes.storageClass ? {storageClassName: profile.kubernetes.storageClass} : {}),
            resources: {requests: {storage: profile.kubernetes.storageSize}},
          },
        },
      ],
    },
  }
}

function service(profile: Profile): Obj {
  const t = template('service.yaml')
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {...t.spec, selector: selectorLabels(profile), ports: t.spec.ports.map((port: Obj) => ({...port, port: profile.http.port}))},
  }
}

function headlessService(profile: Profile): Obj {
  const t = template('service-headless.yaml')
  const portOf: Record<string, number> = {http: profile.http.port, status: profile.failover.statusPort}
  return {
    ...t,
    metadata: meta(profile, headlessServiceName(profile)),
    spec: {...t.spec, selector: selectorLabels(profile), ports: t.spec.ports.map((port: Obj) => ({...port, port: portOf[port.name]}))},
  }
}

function podDisruptionBudget(profile: Profile): Obj {
  const t = template('pdb.yaml')
  return {...t, metadata: meta(profile, profile.name), spec: {...t.spec, selector: {matchLabels: selectorLabels(profile)}}}
}

function ingress(profile: Profile): Obj {
  const t = template('ingress.yaml')
  const {host, className, tlsSecret} = profile.kubernetes.ingress
  // Websocket timeouts when the editor is on; cookie affinity when it is on with sticky sessions.
  const annotations = Object.fromEntries(
    Object.entries(t.metadata.annotations as Record<string, string>).filter(([key]) =>
      profile.http.editor && (key.includes('/proxy-') || profile.http.sticky),
    ),
  )
  const [rule] = t.spec.rules
  return {
    ...t,
    metadata: meta(profile, profile.name, Object.keys(annotations).length ? {annotations} : {}),
    spec: {
      ...(className ? {ingressClassName: className} : {}),
      ...(tlsSecret ? {tls: [{hosts: [host], secretName: tlsSecret}]} : {}),
      rules: [{...rule, host, http: {paths: rule.http.paths.map((path: Obj) => ({...path, backend: {service: {...path.backend.service, name: profile.name}}}))}}],
    },
  }
}
