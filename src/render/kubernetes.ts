import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'
import {drainMs} from '../agent/config.js'
import type {Profile} from '../profile/schema.js'
import {CONTAINER, RENDERED, cliVersion, leaseName, replicaImage} from './names.js'
import {yamlTemplate} from './template.js'

type Obj = Record<string, any>
const template = (file: string): Obj => yamlTemplate('kubernetes', file)

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
  const k = profile.kubernetes
  if (k.createNamespace) objects['namespace.yaml'] = namespace(profile)
  if (profile.mode === 'hot-spare') Object.assign(objects, leaseRbac(profile))
  objects['statefulset.yaml'] = statefulSet(profile, version)
  objects['service.yaml'] = service(profile)
  objects['service-headless.yaml'] = headlessService(profile)
  if (profile.mode === 'load-balanced') objects['pdb.yaml'] = podDisruptionBudget(profile)
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
    {name: 'FF_HA_NODE_RED_PORT', value: String(profile.http.port)},
    ...(profile.mode === 'hot-spare' ? [{name: 'FF_HA_LEASE_NAME', value: leaseName(profile)}] : []),
    {name: profile.secrets.adminTokenEnv, ...secret(SECRET_KEYS.adminToken)},
    {name: profile.secrets.credentialSecretEnv, ...secret(SECRET_KEYS.credentialSecret)},
    // The root filesystem is read-only; npm and Node-RED write scratch files under /tmp.
    {name: 'NPM_CONFIG_CACHE', value: '/tmp/.npm'},
  ]
}

// Probes (docs/design/kubernetes.md has the reasons). Hot-spare readiness is the template's: /active, so the
// Service routes to the active replica only, tolerant of one slow answer. Load-balanced readiness is /healthz
// at the agent's own health-check pace. Liveness (/status: the agent answers) and startup (/healthz: Node-RED
// booted once) are the template's in both modes.
function readinessProbe(profile: Profile, fromTemplate: Obj): Obj {
  if (profile.mode === 'hot-spare') return fromTemplate
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
  return profile.mode === 'load-balanced' ? profile.kubernetes.preStopSeconds : 0
}

// What SIGTERM sets off, each step bounded, and the grace period that covers all of them (the kubelet counts
// preStop inside terminationGracePeriodSeconds, then SIGKILLs):
//   preStop wait (load-balanced) -> the agent's drain (load-balanced: /healthz fails, keeps serving)
//   -> hot-spare: the start request it may still wait for, and the stop of flows (each stopBound)
//   -> the lease release (one API write; 5 s) -> Node-RED's stop (the agent kills it after 10 s) -> 5 s margin.
// Never under 30 s, Kubernetes' default.
export function terminationGraceSeconds(profile: Profile): number {
  const t = profile.failover
  const stopBoundMs = Math.max(100, Math.floor((t.leaseDurationMs - t.renewDeadlineMs) / 2))
  const hotSpareMs = profile.mode === 'hot-spare' ? 2 * stopBoundMs + 5000 : 0
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
  const hotSpare = profile.mode === 'hot-spare'
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
      updateStrategy: hotSpare ? t.spec.updateStrategy : {type: 'RollingUpdate', rollingUpdate: {partition: 0}},
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: commonLabels(profile)},
        spec: {
          ...(hotSpare ? {serviceAccountName: `${profile.name}-agent`} : {automountServiceAccountToken: false}),
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

/** Cookie stickiness is wanted: load-balanced with the editor on (its session and comms live on one replica). */
function wantsSticky(profile: Profile): boolean {
  return profile.mode === 'load-balanced' && profile.http.editor && profile.http.sticky
}

// ClientIP affinity where no cookie stickiness exists: clients that reach the Service itself (no host, or a
// controller that routes through the Service's cluster IP). The controllers ff-ha renders for route to pod
// endpoints directly and never see this setting, so it is left off for them.
function clientIpAffinity(profile: Profile): boolean {
  const {host, controller} = profile.kubernetes.ingress
  return wantsSticky(profile) && (!host || controller === 'other')
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

/** The namespaces whose pods reach Node-RED's port: the profile's, and the ingress controller's when known. */
export function httpFromNamespaces(profile: Profile): string[] | 'any' {
  const k = profile.kubernetes
  if (k.networkPolicy.httpFrom) return k.networkPolicy.httpFrom
  if (!k.ingress.host) return [k.namespace]
  const controllerNamespace = ROUTES[k.ingress.controller].controllerNamespace
  // Gateway API and other controllers run their proxies where their installer chose, some outside the cluster
  // (cloud load balancers) or on the nodes: open Node-RED's port to every source rather than cut the route;
  // kubernetes.networkPolicy.httpFrom narrows it. The status port stays closed.
  if (!controllerNamespace) return 'any'
  return [...new Set([k.namespace, controllerNamespace])]
}

function networkPolicy(profile: Profile): Obj {
  const t = template('networkpolicy.yaml')
  const np = profile.kubernetes.networkPolicy
  const fromNamespaces = (names: string[]) => names.map(name => ({namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': name}}}))
  const httpFrom = httpFromNamespaces(profile)
  const [httpRule] = t.spec.ingress
  const [dns, apiServer] = t.spec.egress
  const brokerPort = mqttPort(profile.mqtt.broker)
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      ...t.spec,
      podSelector: {matchLabels: selectorLabels(profile)},
      ingress: [
        // No "from": every source.
        httpFrom === 'any' ? {ports: httpRule.ports} : {...httpRule, from: fromNamespaces(httpFrom)},
        ...(np.statusFrom.length ? [{from: fromNamespaces(np.statusFrom), ports: [{port: 'status', protocol: 'TCP'}]}] : []),
      ],
      egress: [
        dns,
        ...(profile.mode === 'hot-spare' ? [{...apiServer, to: np.apiServer.map(cidr => ({ipBlock: {cidr}}))}] : []),
        ...(np.flowEgress === 'none' && brokerPort ? [{ports: [{port: brokerPort, protocol: 'TCP'}]}] : []),
        // The flows' own connections (brokers, databases, HTTP APIs): anywhere, unless the profile says none.
        ...(np.flowEgress === 'any' ? [{}] : []),
      ],
    },
  }
}

/** The broker URL's port (the scheme's default when none is given). */
function mqttPort(url: string | undefined): number | undefined {
  if (!url) return undefined
  const defaults: Record<string, number> = {'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443}
  try {
    const u = new URL(url)
    return u.port ? Number(u.port) : defaults[u.protocol]
  } catch {
    return undefined
  }
}

interface RouteKind {
  file: string
  /** Where the controller's proxies usually run (for the NetworkPolicy); undefined: unknown. */
  controllerNamespace?: string
  render(profile: Profile): Obj
}

// One renderer per ingress controller, chosen by kubernetes.ingress.controller.
const ROUTES: Record<Profile['kubernetes']['ingress']['controller'], RouteKind> = {
  'ingress-nginx': {file: 'ingress.yaml', controllerNamespace: 'ingress-nginx', render: p => ingress(p, true)},
  traefik: {file: 'ingressroute.yaml', controllerNamespace: 'kube-system', render: ingressRoute},
  'gateway-api': {file: 'httproute.yaml', render: httpRoute},
  other: {file: 'ingress.yaml', render: p => ingress(p, false)},
}

/** A networking.k8s.io Ingress; ingress-nginx's annotations only for ingress-nginx. */
function ingress(profile: Profile, nginx: boolean): Obj {
  const t = template('ingress.yaml')
  const {host, className, tlsSecret} = profile.kubernetes.ingress
  // Websocket timeouts when the editor is on; cookie affinity when it is on with sticky sessions.
  const annotations = Object.fromEntries(
    Object.entries(t.metadata.annotations as Record<string, string>).filter(([key]) =>
      nginx && profile.http.editor && (key.includes('/proxy-') || profile.http.sticky),
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

/** Traefik's IngressRoute: sticky cookie on the service when wanted, websecure + TLS when a secret is given. */
function ingressRoute(profile: Profile): Obj {
  const t = template('ingressroute.yaml')
  const {host, tlsSecret} = profile.kubernetes.ingress
  const [route] = t.spec.routes
  const [svc] = route.services
  const {sticky, ...plain} = svc
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      entryPoints: tlsSecret ? ['websecure'] : t.spec.entryPoints,
      routes: [
        {
          ...route,
          match: `Host(\`${host}\`)`,
          services: [{...plain, name: profile.name, ...(wantsSticky(profile) ? {sticky: {cookie: {...sticky.cookie, ...(tlsSecret ? {secure: true} : {})}}} : {})}],
        },
      ],
      ...(tlsSecret ? {tls: {secretName: tlsSecret}} : {}),
    },
  }
}

/** Gateway API HTTPRoute on the profile's Gateway; session persistence by cookie when wanted. */
function httpRoute(profile: Profile): Obj {
  const t = template('httproute.yaml')
  const {host, gateway} = profile.kubernetes.ingress
  if (!gateway) throw new Error('kubernetes.ingress.gateway is required for gateway-api (the profile checks say so)')
  const [rule] = t.spec.rules
  const parent = {name: gateway.name, ...(gateway.namespace ? {namespace: gateway.namespace} : {}), ...(gateway.sectionName ? {sectionName: gateway.sectionName} : {})}
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      parentRefs: [parent],
      hostnames: [host],
      rules: [
        {
          ...rule,
          backendRefs: [{name: profile.name, port: profile.http.port}],
          ...(wantsSticky(profile) ? {sessionPersistence: {sessionName: 'FFHA_REPLICA', type: 'Cookie', cookieConfig: {lifetimeType: 'Session'}}} : {}),
        },
      ],
    },
  }
}

// An existing StatefulSet's spec may change only in 'replicas', 'ordinals', 'template', 'updateStrategy',
// 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' (kubernetes
// pkg/apis/apps/validation ValidateStatefulSetUpdate); `kubectl apply` of any other change is refused with
// "spec: Forbidden: updates to statefulset spec for fields other than ...". Of what ff-ha renders, these are.
const FIXED_STATEFULSET_FIELDS = ['volumeClaimTemplates', 'selector', 'serviceName', 'podManagementPolicy'] as const

/**
 * Warnings for a render that changes a field an existing StatefulSet cannot take, comparing the
 * statefulset.yaml already in outDir (what was applied, presumably) with the new one; each says how to recreate.
 */
export function statefulSetRecreateWarnings(profile: Profile, outDir: string, files: Record<string, string>): string[] {
  const file = join(outDir, 'statefulset.yaml')
  const next = files['statefulset.yaml']
  if (!next || !existsSync(file)) return []
  let before: Obj
  try {
    before = parse(readFileSync(file, 'utf8')) as Obj
  } catch {
    return [] // not YAML: render's own drift report shows the file as changed
  }
  const after = parse(next) as Obj
  if (before?.kind !== 'StatefulSet' || before.metadata?.name !== after.metadata.name || before.metadata?.namespace !== after.metadata.namespace) return []
  const changed = FIXED_STATEFULSET_FIELDS.filter(f => JSON.stringify(before.spec?.[f]) !== JSON.stringify(after.spec[f]))
  if (!changed.length) return []
  const details = changed.includes('volumeClaimTemplates') ? ` (${claimChange(before.spec.volumeClaimTemplates, after.spec.volumeClaimTemplates)})` : ''
  const ns = profile.kubernetes.namespace
  const name = after.metadata.name
  return [
    `statefulset.yaml: ${changed.join(', ')} changed${details}; if the StatefulSet is applied already, Kubernetes refuses this change. ` +
      `To apply it, recreate the StatefulSet and keep the pods: kubectl -n ${ns} delete statefulset ${name} --cascade=orphan, then kubectl apply -k ${outDir}. ` +
      (changed.includes('volumeClaimTemplates')
        ? `Existing volumes keep their old class and size: grow each (kubectl -n ${ns} patch pvc data-${name}-0 ...) if its StorageClass allows expansion, or move the data to new volumes; a new class applies only to new PVCs.`
        : 'Then delete the pods one by one (spares first) so that they take the new spec.'),
  ]
}

function claimChange(before: Obj[] | undefined, after: Obj[]): string {
  const describe = (c: Obj | undefined) => ({class: c?.spec?.storageClassName ?? '(cluster default)', size: c?.spec?.resources?.requests?.storage ?? '?'})
  const [b, a] = [describe(before?.[0]), describe(after[0])]
  const parts = [
    ...(b.class !== a.class ? [`storageClassName ${b.class} -> ${a.class}`] : []),
    ...(b.size !== a.size ? [`storage ${b.size} -> ${a.size}`] : []),
  ]
  return parts.length ? parts.join(', ') : 'volume claim template'
}
