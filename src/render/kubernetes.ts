import {stringify} from 'yaml'
import type {Profile} from '../profile/schema.js'
import {commonLabels, configMapName, headlessServiceName, meta, selectorLabels, template, type Obj} from './kubernetes-meta.js'
import {networkPolicy} from './kubernetes-network.js'
import {ROUTES, clientIpAffinity} from './kubernetes-routes.js'
import {CONTAINER, RENDERED, cliVersion, replicaImage} from './names.js'
import {InputError} from '../errors.js'
import {defaultLeaseName, leaseBackend} from '../agent/lease/backends/index.js'
import {flowsRecordName} from '../agent/flows-record/record.js'
import {kubernetesLeasePiece, podsUseLeaseApi} from './singleton-lease.js'
import type {KubernetesLeasePiece} from '../agent/lease/backends/types.js'
import {modeOf} from '../modes/index.js'
import {drainMs} from '../model/proxy-checks.js'
import {stopBoundMs} from '../model/lease-timing.js'
import {ENV} from '../model/env.js'
import {contextPlan} from '../model/context-storage.js'

export {commonLabels, configMapName, headlessServiceName, selectorLabels} from './kubernetes-meta.js'

/** Keys in the Kubernetes Secret that `secrets.kubernetesSecret` names (created by the user, never rendered). */
export const SECRET_KEYS = {adminToken: 'admin-token', credentialSecret: 'credential-secret', statusToken: 'status-token', contextDatabaseUrl: 'context-database-url'} as const

/** Every Kubernetes object ff-ha renders, keyed by file name. */
export function kubernetesObjects(profile: Profile, version = cliVersion()): Record<string, Obj> {
  const objects: Record<string, Obj> = {}
  const k = profile.kubernetes
  if (k.createNamespace) objects['namespace.yaml'] = namespace(profile)
  const lease = kubernetesLease(profile)
  if (lease?.rbac) Object.assign(objects, leaseRbac(profile, lease.rbac.resourceNames))
  objects['statefulset.yaml'] = statefulSet(profile, version)
  objects['service.yaml'] = service(profile)
  objects['service-headless.yaml'] = headlessService(profile)
  if (modeOf(profile.mode).kubernetes.podDisruptionBudget) objects['pdb.yaml'] = podDisruptionBudget(profile)
  if (k.networkPolicy.enabled) objects['networkpolicy.yaml'] = networkPolicy(profile)
  if (k.ingress.host) {
    const route = ROUTES[k.ingress.controller]
    objects[route.file] = route.render(profile)
  }
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

/** The lease backend's env and RBAC (load-balanced replicas: only for listed singletons, singleton-lease.ts). */
function kubernetesLease(profile: Profile): KubernetesLeasePiece | null {
  if (!podsUseLeaseApi(profile)) return null
  const backend = leaseBackend(profile.failover.lease)
  if (!backend.render.kubernetes) throw new InputError(`failover.lease: ${backend.id} cannot serve target kubernetes`, `use one of the lease backends for kubernetes, or leave failover.lease out`)
  const piece = backend.render.kubernetes
  return kubernetesLeasePiece(profile, () => piece(profile))
}

function leaseRbac(profile: Profile, leases: string[]): Record<string, Obj> {
  const name = `${profile.name}-agent`
  const [role, binding] = [template('role.yaml'), template('rolebinding.yaml')]
  return {
    'serviceaccount.yaml': {...template('serviceaccount.yaml'), metadata: meta(profile, name)},
    'role.yaml': {...role, metadata: meta(profile, name), rules: role.rules.map((r: Obj) => (!r.resourceNames ? r : {...r, resourceNames: r.resources.includes('configmaps') ? [flowsRecordName(defaultLeaseName(profile))] : leases}))},
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
    {name: ENV.replica, ...field('metadata.name')},
    {name: 'POD_NAMESPACE', ...field('metadata.namespace')},
    {name: ENV.profile, value: CONTAINER.profile},
    {name: ENV.settings, value: CONTAINER.settings},
    {name: ENV.userDir, value: CONTAINER.userDir},
    {name: ENV.statusPort, value: String(profile.failover.statusPort)},
    // The pod's address: the kubelet's probes reach the agent there (its default is 127.0.0.1).
    {name: ENV.statusHost, value: '0.0.0.0'},
    {name: ENV.nodeRedPort, value: String(profile.http.port)},
    ...(kubernetesLease(profile)?.env ?? []).map(e => ('secretKey' in e ? {name: e.name, ...secret(e.secretKey)} : e)),
    {name: profile.secrets.adminTokenEnv, ...secret(SECRET_KEYS.adminToken)},
    {name: profile.secrets.credentialSecretEnv, ...secret(SECRET_KEYS.credentialSecret)},
    // Optional key: when present, /status and /metrics need it as a bearer token.
    {name: profile.secrets.statusTokenEnv, valueFrom: {secretKeyRef: {name: profile.secrets.kubernetesSecret, key: SECRET_KEYS.statusToken, optional: true}}},
    // The shared context store on PostgreSQL (a sqlite file cannot be shared across nodes: a profile error).
    ...(contextPlan(profile).shared?.backend === 'postgres' ? [{name: contextPlan(profile).shared!.connectionStringEnv, ...secret(SECRET_KEYS.contextDatabaseUrl)}] : []),
    // The root filesystem is read-only; npm and Node-RED write scratch files under /tmp.
    {name: 'NPM_CONFIG_CACHE', value: '/tmp/.npm'},
  ]
}

// Probes (docs/design/kubernetes.md has the reasons). Hot-spare readiness is the template's: /active, so the
// Service routes to the active replica only, tolerant of one slow answer. Load-balanced readiness is /healthz
// at the agent's own health-check pace. Liveness (/status: the agent answers) and startup (/healthz: Node-RED
// booted once) are the template's in both modes.
function readinessProbe(profile: Profile, fromTemplate: Obj): Obj {
  // The template's probe is the active replica's (/active); a mode that routes to every healthy replica checks /healthz.
  switch (modeOf(profile.mode).traffic.to) {
    case 'the-active':
      return fromTemplate
    case 'every-healthy':
      return healthyReadiness(profile, fromTemplate)
  }
}

function healthyReadiness(profile: Profile, fromTemplate: Obj): Obj {
  return {
    ...fromTemplate,
    httpGet: {path: '/healthz', port: 'status'},
    periodSeconds: Math.max(1, Math.round(profile.failover.healthIntervalMs / 1000)),
    timeoutSeconds: Math.max(fromTemplate.timeoutSeconds, Math.ceil(profile.failover.healthTimeoutMs / 1000)),
    failureThreshold: profile.failover.healthFailureThreshold,
  }
}

function resources(profile: Profile): Obj {
  const clean = (r: Obj) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))
  const {requests, limits} = profile.kubernetes.resources
  return {requests: clean(requests), limits: clean(limits)}
}

/** Load-balanced only: the preStop wait that lets endpoints, kube-proxy and ingress controllers forget the pod. */
export function preStopSeconds(profile: Profile): number {
  return modeOf(profile.mode).kubernetes.preStop ? profile.kubernetes.preStopSeconds : 0
}

// What SIGTERM sets off, each step bounded, and the grace period that covers all of them (the kubelet counts
// preStop inside terminationGracePeriodSeconds, then SIGKILLs):
//   preStop wait (load-balanced) -> the agent's drain (load-balanced: /healthz fails, keeps serving)
//   -> hot-spare: the start request it may still wait for, and the stop of flows (each stopBound)
//   -> the lease release (one API write; 5 s) -> Node-RED's stop (the agent kills it after 10 s) -> 5 s margin.
// Never under 30 s, Kubernetes' default.
export function terminationGraceSeconds(profile: Profile): number {
  const t = profile.failover
  const hotSpareMs = modeOf(profile.mode).singleActive ? 2 * stopBoundMs(t) + 5000 : 0
  const totalMs = preStopSeconds(profile) * 1000 + drainMs(profile) + hotSpareMs + 10_000 + 5000
  return Math.max(30, Math.ceil(totalMs / 1000))
}

function affinity(profile: Profile, fromTemplate: Obj): Obj {
  const [preferred] = fromTemplate.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution
  const term = {...preferred.podAffinityTerm, labelSelector: {matchLabels: selectorLabels(profile)}}
  if (profile.kubernetes.antiAffinity === 'required') return {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [term]}}
  return {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{...preferred, podAffinityTerm: term}]}}
}

function spread(profile: Profile, fromTemplate: Obj[]): Obj[] {
  return fromTemplate
    .filter(c => c.topologyKey !== 'topology.kubernetes.io/zone' || profile.kubernetes.spreadAcrossZones)
    .map(c => ({...c, labelSelector: {matchLabels: selectorLabels(profile)}}))
}

function statefulSet(profile: Profile, version: string): Obj {
  const t = template('statefulset.yaml')
  const mode = modeOf(profile.mode)
  const selector = selectorLabels(profile)
  const pod = t.spec.template.spec
  const container = pod.containers[0]
  const [claim] = t.spec.volumeClaimTemplates
  const portOf: Record<string, number> = {http: profile.http.port, status: profile.failover.statusPort}
  const preStop = preStopSeconds(profile)
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      ...t.spec,
      serviceName: headlessServiceName(profile),
      replicas: profile.replicas,
      updateStrategy: mode.kubernetes.rollingUpdate ? {type: 'RollingUpdate', rollingUpdate: {partition: 0}} : t.spec.updateStrategy,
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: commonLabels(profile)},
        spec: {
          ...(kubernetesLease(profile)?.rbac ? {serviceAccountName: `${profile.name}-agent`} : {automountServiceAccountToken: false}),
          terminationGracePeriodSeconds: terminationGraceSeconds(profile),
          securityContext: pod.securityContext,
          affinity: affinity(profile, pod.affinity),
          topologySpreadConstraints: spread(profile, pod.topologySpreadConstraints),
          containers: [
            {
              ...container,
              image: replicaImage(profile, version),
              env: env(profile),
              ports: container.ports.map((port: Obj) => ({...port, containerPort: portOf[port.name]})),
              readinessProbe: readinessProbe(profile, container.readinessProbe),
              ...(preStop > 0 ? {lifecycle: {preStop: {sleep: {seconds: preStop}}}} : {}),
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
            // Unset: the PVCs get the cluster's default StorageClass.
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
    spec: {
      ...t.spec,
      selector: selectorLabels(profile),
      ...(clientIpAffinity(profile) ? {sessionAffinity: 'ClientIP', sessionAffinityConfig: {clientIP: {timeoutSeconds: 10_800}}} : {}),
      ports: t.spec.ports.map((port: Obj) => ({...port, port: profile.http.port})),
    },
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

function namespace(profile: Profile): Obj {
  const t = template('namespace.yaml')
  return {...t, metadata: {name: profile.kubernetes.namespace, labels: {...commonLabels(profile), ...t.metadata.labels}}}
}
