import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {parse, parseAllDocuments} from 'yaml'
import {StatefulSet} from 'kubernetes-models/apps/v1/StatefulSet'
import {Service} from 'kubernetes-models/v1/Service'
import {ServiceAccount} from 'kubernetes-models/v1/ServiceAccount'
import {PodDisruptionBudget} from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import {Ingress} from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import {Role} from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import {Namespace} from 'kubernetes-models/v1/Namespace'
import {NetworkPolicy} from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
// CRD models: @kubernetes-models/traefik 0.2.4 and @kubernetes-models/gateway-api 0.5.1, the last majors that
// run on Node 20 (1.x/2.x declare node >= 22). gateway-api 0.5.1 is built from Gateway API v1.0.0, which has
// no sessionPersistence yet: that field is checked below against the v1.1+ API (GEP-1619).
import {IngressRoute} from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute'
import {HTTPRoute} from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute'
import {RoleBinding} from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
// client-node's generated serializer knows every field of every model (a deep import: not its public API).
import {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'
import {packageRoot} from '../../../src/paths.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {RENDERED} from '../../../src/render/names.js'
import {renderProject} from '../../../src/render/project.js'
import {renderFromProfile} from '../../../src/render/run.js'
import {goldenCases} from '../../golden/cases.js'

// Every Kubernetes object validated with kubernetes-models, checked for unknown fields by a round trip through
// @kubernetes/client-node's models (kubernetes-models ignores extra keys), then checked for what schemas miss.
// No cluster runs here: `kubectl apply --dry-run=server` is not run.
type Obj = {apiVersion: string; kind: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>}; spec?: any; rules?: any[]; roleRef?: any; subjects?: any[]}

const MODELS: Record<string, {model: new (o: any) => {validate(): void}; type?: string}> = {
  Namespace: {model: Namespace, type: 'V1Namespace'},
  NetworkPolicy: {model: NetworkPolicy, type: 'V1NetworkPolicy'},
  // CRDs: client-node has no model for them, so unknown fields are caught by CRD_FIELDS below.
  IngressRoute: {model: IngressRoute},
  HTTPRoute: {model: HTTPRoute},
  StatefulSet: {model: StatefulSet, type: 'V1StatefulSet'},
  Service: {model: Service, type: 'V1Service'},
  ServiceAccount: {model: ServiceAccount, type: 'V1ServiceAccount'},
  PodDisruptionBudget: {model: PodDisruptionBudget, type: 'V1PodDisruptionBudget'},
  Ingress: {model: Ingress, type: 'V1Ingress'},
  Role: {model: Role, type: 'V1Role'},
  RoleBinding: {model: RoleBinding, type: 'V1RoleBinding'},
}

// The fields ff-ha may write in a CRD object, from each CRD's reference: Traefik's IngressRoute
// (doc.traefik.io, "Kubernetes IngressRoute": entryPoints, routes[].match/kind/services[].name/port/sticky.cookie
// name/secure/httpOnly/sameSite, tls.secretName) and Gateway API's HTTPRoute (gateway-api.sigs.k8s.io, v1:
// parentRefs name/namespace/sectionName, hostnames, rules[].matches[].path type/value, backendRefs name/port,
// and sessionPersistence sessionName/type/cookieConfig.lifetimeType, experimental since v1.1). The models
// accept unknown keys, so a misspelt one would pass them; this list does not.
const CRD_FIELDS: Record<string, string[]> = {
  IngressRoute: ['spec.entryPoints', 'spec.routes.match', 'spec.routes.kind', 'spec.routes.services.name', 'spec.routes.services.port', 'spec.routes.services.sticky.cookie.name', 'spec.routes.services.sticky.cookie.secure', 'spec.routes.services.sticky.cookie.httpOnly', 'spec.routes.services.sticky.cookie.sameSite', 'spec.tls.secretName'],
  HTTPRoute: ['spec.parentRefs.name', 'spec.parentRefs.namespace', 'spec.parentRefs.sectionName', 'spec.hostnames', 'spec.rules.matches.path.type', 'spec.rules.matches.path.value', 'spec.rules.backendRefs.name', 'spec.rules.backendRefs.port', 'spec.rules.sessionPersistence.sessionName', 'spec.rules.sessionPersistence.type', 'spec.rules.sessionPersistence.cookieConfig.lifetimeType'],
}
/** Dotted paths of every leaf under spec (array indexes dropped). */
function leafPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap(v => leafPaths(v, path))
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leafPaths(v, `${path}.${k}`))
  return [path]
}
function checkModel(obj: any): void {
  const m = MODELS[obj.kind]
  expect(m, `no model for ${obj.kind}`).toBeDefined()
  expect(() => new m.model(obj).validate()).not.toThrow()
  if (m.type) expect(roundTrip(obj, m.type)).toEqual(obj)
  else for (const path of leafPaths(obj.spec, 'spec')) expect(CRD_FIELDS[obj.kind], `${obj.kind} ${path}`).toContain(path)
}

const roundTrip = (obj: unknown, type: string) => ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, type, ''), type, '')
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v)

describe('the model checks themselves', () => {
  it('kubernetes-models rejects a wrong type and the round trip sees an unknown field', () => {
    expect(() => new Service({metadata: {name: 'x'}, spec: {ports: [{port: 'eighty'}]}} as any).validate()).toThrow(/port/)
    const bad = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'x'}, spec: {selectr: {a: 'b'}}}
    expect(roundTrip(bad, 'V1Service')).not.toEqual(bad)
  })

  it('the CRD models reject a wrong type, and the field list sees a misspelt key', () => {
    const route = {apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: {name: 'x'}, spec: {routes: [{match: 'Host(`a`)', kind: 'Rule', services: [{name: 's', port: 'http', sticky: {cookie: {sameSite: 5}}}]}]}}
    expect(() => new IngressRoute(route as any).validate()).toThrow(/sameSite/)
    const http = {apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: {name: 'x'}, spec: {parentRefs: [{name: 'g'}], rules: [{backendRefs: [{name: 's', port: 'http'}]}]}}
    expect(() => new HTTPRoute(http as any).validate()).toThrow(/port/)
    const misspelt = {...http, spec: {parentRefs: [{name: 'g'}], rules: [{backendRefs: [{name: 's', port: 1880}], sessionPersistance: {type: 'Cookie'}}]}}
    expect(() => checkModel(misspelt)).toThrow(/sessionPersistance/)
  })
})

describe('templates/kubernetes', () => {
  const dir = join(packageRoot, 'templates', 'kubernetes')
  for (const file of readdirSync(dir).filter(f => f !== 'kustomization.yaml')) {
    it(`${file} is a valid object as is`, () => {
      checkModel(parse(readFileSync(join(dir, file), 'utf8')))
    })
  }
})

for (const c of goldenCases().filter(c => c.profile.target === 'kubernetes')) {
  describe(`kubernetes: ${c.name}`, () => {
    const p = c.profile
    const hotSpare = p.mode === 'hot-spare'
    const kustomization = parse(c.files[RENDERED.kustomization])
    const objects: Record<string, Obj> = {}
    for (const file of kustomization.resources as string[]) objects[file] = parse(c.files[file])
    const all = Object.values(objects)
    const byKind = (kind: string) => all.filter(o => o.kind === kind)
    const sts = byKind('StatefulSet')[0] as Obj
    const pod = sts.spec.template
    const container = pod.spec.containers[0]
    const ports = new Map<string, number>(container.ports.map((x: {name: string; containerPort: number}) => [x.name, x.containerPort]))

    it('lists in kustomization.yaml exactly the YAML files it renders, and generates the ConfigMap from rendered files', () => {
      const yamlFiles = Object.keys(c.files).filter(f => f.endsWith('.yaml') && f !== RENDERED.kustomization && !f.startsWith('profile/'))
      expect([...kustomization.resources].sort()).toEqual(yamlFiles.sort())
      const gen = kustomization.configMapGenerator[0]
      for (const f of gen.files as string[]) expect(Object.keys(c.files)).toContain(f.split('=')[1])
      expect(pod.spec.volumes.find((v: any) => v.name === 'config').configMap.name).toBe(gen.name)
      expect(kustomization.namespace).toBe(p.kubernetes.namespace)
    })

    for (const [file, obj] of Object.entries(objects)) {
      it(`${file}: valid ${obj.kind} per its model, no unknown fields, recommended labels, the profile's namespace`, () => {
        checkModel(obj)
        if (obj.kind === 'Namespace') expect(obj.metadata.name).toBe(p.kubernetes.namespace)
        else expect(obj.metadata.namespace).toBe(p.kubernetes.namespace)
        for (const k of ['name', 'instance', 'managed-by', 'part-of', 'component', 'version']) {
          expect(obj.metadata.labels?.[`app.kubernetes.io/${k}`], k).toBeTruthy()
        }
      })
    }

    it('renders no Secret and no cluster-wide object; secrets are referenced by name', () => {
      expect(all.map(o => o.kind)).not.toContain('Secret')
      expect(all.filter(o => o.kind.startsWith('Cluster'))).toEqual([])
      const refs = container.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => [e.name, e.valueFrom.secretKeyRef.name])
      expect(refs.slice(0, 3)).toEqual([
        [p.secrets.adminTokenEnv, p.secrets.kubernetesSecret],
        [p.secrets.credentialSecretEnv, p.secrets.kubernetesSecret],
        [p.secrets.statusTokenEnv, p.secrets.kubernetesSecret],
      ])
      // Beyond those, only what the profile names (a shared context's PostgreSQL URL, etcd credentials), from
      // the same Secret.
      expect(refs.slice(3).every(([, secret]: string[]) => secret === p.secrets.kubernetesSecret)).toBe(true)
      // The status token is optional: without the key the agent's /status and /metrics are open.
      expect(container.env.find((e: any) => e.name === p.secrets.statusTokenEnv).valueFrom.secretKeyRef.optional).toBe(true)
      expect(container.env.every((e: any) => e.value === undefined || !/token|secret/i.test(e.name) || e.name === 'FF_HA_SETTINGS')).toBe(true)
    })

    it('StatefulSet: selector matches the pod labels, a PVC per replica, the agent as entrypoint', () => {
      expect(matches(sts.spec.selector.matchLabels, pod.metadata.labels)).toBe(true)
      expect(sts.spec.replicas).toBe(p.replicas)
      expect(sts.spec.serviceName).toBe(byKind('Service').find(s => s.spec.clusterIP === 'None')!.metadata.name)
      expect(sts.spec.volumeClaimTemplates.map((v: any) => v.metadata.name)).toEqual(['data'])
      expect(container.volumeMounts.find((m: any) => m.mountPath === '/data').name).toBe('data')
      expect([...container.command, ...container.args]).toEqual(['ff-ha', 'agent', '--replica', '$(FF_HA_REPLICA)'])
      expect(container.env.find((e: any) => e.name === 'FF_HA_REPLICA').valueFrom.fieldRef.fieldPath).toBe('metadata.name')
      expect(p.kubernetes.storageClass ? sts.spec.volumeClaimTemplates[0].spec.storageClassName : undefined).toBe(p.kubernetes.storageClass)
    })

    it(`probes: readiness ${hotSpare ? '/active' : '/healthz'} survives one slow answer, liveness /status (the agent), startup /healthz with minutes to boot`, () => {
      const {readinessProbe: ready, livenessProbe: live, startupProbe: startup} = container
      expect(ready.httpGet.path).toBe(hotSpare ? '/active' : '/healthz')
      // One failed or slow answer never drops the only endpoint.
      expect(ready.failureThreshold).toBeGreaterThanOrEqual(2)
      expect(ready.timeoutSeconds).toBeGreaterThanOrEqual(2)
      // Liveness watches the agent, never Node-RED: the agent restarts a crashed Node-RED within its own 60 s
      // boot budget, and /healthz is 503 all that time.
      expect(live.httpGet.path).toBe('/status')
      expect(startup.httpGet.path).toBe('/healthz')
      expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(3 * 60)
      for (const probe of [ready, live, startup]) {
        expect(ports.get(probe.httpGet.port)).toBe(p.failover.statusPort)
        expect(probe.timeoutSeconds).toBeLessThanOrEqual(probe.periodSeconds === 1 ? 2 : probe.periodSeconds)
      }
      expect(ports.get('http')).toBe(p.http.port)
    })

    it(`shutdown: ${hotSpare ? 'no preStop (the lease hands over at once)' : `a preStop wait of ${p.kubernetes.preStopSeconds} s for endpoint propagation`}, and a grace period that covers it all`, () => {
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0
      expect(preStop).toBe(hotSpare ? 0 : p.kubernetes.preStopSeconds)
      // preStop + the agent's drain + (hot-spare) start wait and stop of flows + lease write + Node-RED's 10 s stop.
      const stopBound = Math.max(100, Math.floor((p.failover.leaseDurationMs - p.failover.renewDeadlineMs) / 2)) / 1000
      const needed = preStop + (hotSpare ? 2 * stopBound + 5 : 5) + 10
      expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed)
    })

    it(`pods: non-root, no privilege escalation, ${p.kubernetes.antiAffinity} anti-affinity per node, spread by node (and zone when asked) without blocking, resources set`, () => {
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true)
      expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0)
      expect(container.securityContext.allowPrivilegeEscalation).toBe(false)
      expect(container.securityContext.capabilities.drop).toEqual(['ALL'])
      const anti = pod.spec.affinity.podAntiAffinity
      const term = p.kubernetes.antiAffinity === 'required' ? anti.requiredDuringSchedulingIgnoredDuringExecution[0] : anti.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm
      // Exactly one of the two: a required rule leaves the spare Pending forever on a one-node cluster.
      expect(Object.keys(anti)).toEqual([p.kubernetes.antiAffinity === 'required' ? 'requiredDuringSchedulingIgnoredDuringExecution' : 'preferredDuringSchedulingIgnoredDuringExecution'])
      expect(matches(term.labelSelector.matchLabels, pod.metadata.labels)).toBe(true)
      expect(term.topologyKey).toBe('kubernetes.io/hostname')
      const spread = pod.spec.topologySpreadConstraints ?? []
      expect(spread.map((s: any) => s.topologyKey)).toEqual(['kubernetes.io/hostname', ...(p.kubernetes.spreadAcrossZones ? ['topology.kubernetes.io/zone'] : [])])
      for (const s of spread) {
        expect(matches(s.labelSelector.matchLabels, pod.metadata.labels)).toBe(true)
        expect(s.whenUnsatisfiable).toBe('ScheduleAnyway')
      }
      expect(container.resources.requests.memory).toBe(p.kubernetes.resources.requests.memory)
    })

    it('Services select the pods and point at container ports that exist', () => {
      for (const svc of byKind('Service')) {
        expect(matches(svc.spec.selector, pod.metadata.labels)).toBe(true)
        for (const port of svc.spec.ports) expect(ports.has(port.targetPort), `${svc.metadata.name} ${port.targetPort}`).toBe(true)
      }
      const headless = byKind('Service').find(s => s.spec.clusterIP === 'None')!
      expect(headless.spec.publishNotReadyAddresses).toBe(true)
    })

    it(hotSpare ? 'hot-spare: the Role allows only create on leases and configmaps and get/update on its own Lease and flows record, bound to the pods\' ServiceAccount' : 'load-balanced: no RBAC and no service account token', () => {
      const [role, binding, sa] = [byKind('Role')[0], byKind('RoleBinding')[0], byKind('ServiceAccount')[0]]
      if (!hotSpare) {
        expect([role, binding, sa]).toEqual([undefined, undefined, undefined])
        expect(pod.spec.automountServiceAccountToken).toBe(false)
        return
      }
      const lease = container.env.find((e: any) => e.name === 'FF_HA_LEASE_NAME').value
      expect(role.rules).toEqual([
        {apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create']},
        {apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [lease], verbs: ['get', 'update']},
        // The shared flows record beside the lease (docs/design/editor-deploy.md).
        {apiGroups: [''], resources: ['configmaps'], verbs: ['create']},
        {apiGroups: [''], resources: ['configmaps'], resourceNames: [`${lease}-flows`], verbs: ['get', 'update']},
      ])
      expect(lease).toBe(`${p.name}-leader`)
      expect(binding.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name})
      expect(binding.subjects).toEqual([{kind: 'ServiceAccount', name: sa.metadata.name, namespace: p.kubernetes.namespace}])
      expect(pod.spec.serviceAccountName).toBe(sa.metadata.name)
      // A spare is never Ready, so a RollingUpdate would stall on it.
      expect(sts.spec.updateStrategy.type).toBe('OnDelete')
    })

    it(hotSpare ? 'hot-spare: no PDB (only the active is ever Ready; a budget would block drains)' : 'load-balanced: the PDB selects the pods and allows a voluntary disruption when all are Ready', () => {
      const pdb = byKind('PodDisruptionBudget')[0]
      if (hotSpare) return expect(pdb).toBeUndefined()
      expect(matches(pdb.spec.selector.matchLabels, pod.metadata.labels)).toBe(true)
      // The disruption controller's arithmetic: allowed = healthy - desiredHealthy.
      const healthy = p.replicas
      const desired = pdb.spec.minAvailable ?? p.replicas - pdb.spec.maxUnavailable
      expect(healthy - desired).toBeGreaterThanOrEqual(1)
      expect(desired).toBeGreaterThanOrEqual(1)
    })

    const sticky = !hotSpare && p.http.editor && p.http.sticky
    const {host, controller} = p.kubernetes.ingress
    it(host ? `${controller}: routes the host to the Service port that exists${sticky ? ', with cookie stickiness' : ''}` : 'no route without a host', () => {
      const routes = all.filter(o => ['Ingress', 'IngressRoute', 'HTTPRoute'].includes(o.kind))
      if (!host) return expect(routes).toEqual([])
      expect(routes.map(r => r.kind)).toEqual([{'ingress-nginx': 'Ingress', traefik: 'IngressRoute', 'gateway-api': 'HTTPRoute', other: 'Ingress'}[controller]])
      const [route] = routes as any[]
      const svc = byKind('Service').find(s => s.spec.clusterIP !== 'None')!
      const annotations = route.metadata.annotations ?? {}
      if (route.kind === 'Ingress') {
        const backend = route.spec.rules[0].http.paths[0].backend.service
        expect(backend.name).toBe(svc.metadata.name)
        expect(svc.spec.ports.map((x: any) => x.name)).toContain(backend.port.name)
        expect(route.spec.rules[0].host).toBe(host)
        // ingress-nginx's annotation names (kubernetes.github.io/ingress-nginx, "Annotations"); none for others.
        const nginx = controller === 'ingress-nginx'
        expect(annotations['nginx.ingress.kubernetes.io/affinity']).toBe(nginx && sticky ? 'cookie' : undefined)
        if (nginx && sticky) expect(annotations).toMatchObject({'nginx.ingress.kubernetes.io/affinity-mode': 'persistent', 'nginx.ingress.kubernetes.io/session-cookie-name': 'FFHA_REPLICA'})
        for (const key of Object.keys(annotations)) expect(nginx && key.startsWith('nginx.ingress.kubernetes.io/'), key).toBe(true)
      }
      if (route.kind === 'IngressRoute') {
        const [r] = route.spec.routes
        expect(r.match).toBe(`Host(\`${host}\`)`)
        expect(r.services).toEqual([expect.objectContaining({name: svc.metadata.name, port: 'http'})])
        expect(r.services[0].sticky?.cookie).toEqual(sticky ? expect.objectContaining({name: 'FFHA_REPLICA', httpOnly: true}) : undefined)
        expect(route.spec.entryPoints).toEqual(p.kubernetes.ingress.tlsSecret ? ['websecure'] : ['web'])
        expect(route.spec.tls?.secretName).toBe(p.kubernetes.ingress.tlsSecret)
      }
      if (route.kind === 'HTTPRoute') {
        expect(route.spec.hostnames).toEqual([host])
        expect(route.spec.parentRefs[0].name).toBe(p.kubernetes.ingress.gateway?.name)
        const [rule] = route.spec.rules
        // backendRefs name a Service and its port number (not a name: Gateway API's PortNumber).
        expect(rule.backendRefs).toEqual([{name: svc.metadata.name, port: svc.spec.ports[0].port}])
        const sp = rule.sessionPersistence
        if (!sticky) expect(sp).toBeUndefined()
        else {
          // Gateway API v1.1+ SessionPersistence: sessionName <= 128 chars, type Cookie|Header, lifetimeType Session|Permanent.
          expect(sp.sessionName.length).toBeLessThanOrEqual(128)
          expect(['Cookie', 'Header']).toContain(sp.type)
          expect(['Session', 'Permanent']).toContain(sp.cookieConfig.lifetimeType)
        }
      }
    })

    it(`Service: ${sticky && (!host || controller === 'other') ? 'ClientIP affinity (no cookie stickiness in front of it)' : 'no ClientIP affinity'}`, () => {
      const svc = byKind('Service').find(s => s.spec.clusterIP !== 'None')!
      expect(svc.spec.sessionAffinity).toBe(sticky && (!host || controller === 'other') ? 'ClientIP' : undefined)
    })

    it(p.kubernetes.networkPolicy.enabled ? 'NetworkPolicy: Node-RED from the allowed sources only, the status port from nobody but the kubelet and statusFrom, egress to DNS and (hot-spare) the API server' : 'no NetworkPolicy', () => {
      const [np] = byKind('NetworkPolicy') as any[]
      const cfg = p.kubernetes.networkPolicy
      if (!cfg.enabled) return expect(np).toBeUndefined()
      expect(matches(np.spec.podSelector.matchLabels, pod.metadata.labels)).toBe(true)
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress'])
      const portsOf = (rule: any) => (rule.ports ?? []).map((x: any) => x.port)
      // Every ingress rule names ports that the container has; no rule opens the status port to everyone.
      for (const rule of np.spec.ingress) {
        for (const port of portsOf(rule)) expect(ports.has(port), port).toBe(true)
        if (portsOf(rule).includes('status')) expect(rule.from?.length).toBeGreaterThan(0)
      }
      const statusRules = np.spec.ingress.filter((r: any) => portsOf(r).includes('status'))
      expect(statusRules.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']))).toEqual(cfg.statusFrom)
      const [httpRule] = np.spec.ingress.filter((r: any) => portsOf(r).includes('http'))
      const from = httpRule.from?.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])
      if (cfg.httpFrom) expect(from).toEqual(cfg.httpFrom)
      else if (!host) expect(from).toEqual([p.kubernetes.namespace])
      else if (controller === 'ingress-nginx') expect(from).toEqual([p.kubernetes.namespace, 'ingress-nginx'])
      else if (controller === 'traefik') expect(from).toEqual([p.kubernetes.namespace, 'kube-system'])
      else expect(from).toBeUndefined()
      const egress = np.spec.egress as any[]
      expect(egress[0]).toEqual({to: [{namespaceSelector: {}, podSelector: {matchLabels: {'k8s-app': 'kube-dns'}}}], ports: [{port: 53, protocol: 'UDP'}, {port: 53, protocol: 'TCP'}]})
      const api = egress.find(r => portsOf(r).includes(6443))
      if (hotSpare) expect(api.to.map((t: any) => t.ipBlock.cidr)).toEqual(cfg.apiServer)
      else expect(api).toBeUndefined()
      expect(egress.some(r => Object.keys(r).length === 0)).toBe(cfg.flowEgress === 'any')
    })

    it(p.kubernetes.createNamespace ? 'Namespace: rendered, enforcing the restricted Pod Security Standard' : 'no Namespace object (the namespace must exist)', () => {
      const [ns] = byKind('Namespace')
      if (!p.kubernetes.createNamespace) return expect(ns).toBeUndefined()
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted')
    })
  })
}

describe('render warns when an existing StatefulSet cannot take the change', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ff-ha-k8s-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))
  const profileFile = () => join(dir, 'ff-ha.yaml')
  const render = (kubernetes: string, check = false) => {
    writeFileSync(profileFile(), `name: shop\ntarget: kubernetes\nkubernetes: {namespace: plant${kubernetes}}\n`)
    return renderFromProfile({profileFile: profileFile(), outDir: join(dir, 'deploy'), check})
  }

  it('a new storageClassName or size: warns (with --check too) and says how to recreate; other changes and a first render do not', () => {
    expect(render('').warnings).toEqual([])
    expect(render(', resources: {requests: {cpu: 200m}}').warnings).toEqual([]) // the pod template may change
    const checked = render(', storageClass: fast-ssd, storageSize: 5Gi', true)
    expect(checked.changed).toBe(true)
    expect(checked.warnings).toHaveLength(1)
    expect(checked.warnings[0]).toContain('statefulset.yaml: volumeClaimTemplates changed (storageClassName (cluster default) -> fast-ssd, storage 1Gi -> 5Gi)')
    expect(checked.warnings[0]).toContain(`kubectl -n plant delete statefulset shop --cascade=orphan, then kubectl apply -k ${join(dir, 'deploy')}`)
    // --check wrote nothing: the warning stands until the render that writes it.
    expect(render(', storageClass: fast-ssd, storageSize: 5Gi').warnings).toHaveLength(1)
    expect(render(', storageClass: fast-ssd, storageSize: 5Gi').warnings).toEqual([])
  })
})

describe('profile checks for the ingress controllers', () => {
  it('gateway-api without a Gateway, or with a tlsSecret: exit-2 errors naming the key', () => {
    const load = (ingress: string) => () => parseProfileText(`name: shop\ntarget: kubernetes\nmode: load-balanced\nkubernetes:\n  ingress: ${ingress}\n`, 'ff-ha.yaml')
    expect(load('{host: a.example.com, controller: gateway-api}')).toThrow(/kubernetes\.ingress\.controller.*gateway-api needs kubernetes\.ingress\.gateway/)
    expect(load('{host: a.example.com, controller: gateway-api, gateway: {name: g}, tlsSecret: t}')).toThrow(/TLS is set on the Gateway/)
    expect(load('{host: a.example.com, controller: gateway-api, gateway: {name: g}}')).not.toThrow()
  })
})

// The real `kubectl kustomize` (kustomize built into kubectl) over every golden tree. kubectl is not a
// dependency: where it is missing this says so and runs nothing.
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find(f => existsSync(f))
if (!KUBECTL) console.warn('NOT RUN: `kubectl kustomize` of the rendered trees: no kubectl in /usr/bin or /usr/local/bin (install kubectl >= 1.27, e.g. Debian\'s kubernetes-client or the upstream binary)')
describe.skipIf(!KUBECTL)(`kubectl kustomize (${KUBECTL})`, () => {
  for (const c of goldenCases().filter(c => c.profile.target === 'kubernetes')) {
    it(`${c.name}: builds, every object in the namespace, the ConfigMap generated with a hash and referenced by that name`, () => {
      const out = execFileSync(KUBECTL!, ['kustomize', join(c.dir, 'out')], {encoding: 'utf8', timeout: 30_000})
      const objects = parseAllDocuments(out).map(d => d.toJSON())
      const resources = parse(c.files[RENDERED.kustomization]).resources as string[]
      expect(objects).toHaveLength(resources.length + 1)
      for (const o of objects) {
        if (o.kind === 'Namespace') expect(o.metadata.name).toBe(c.profile.kubernetes.namespace)
        else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(c.profile.kubernetes.namespace)
      }
      const cm = objects.find(o => o.kind === 'ConfigMap')
      expect(cm.metadata.name).toMatch(new RegExp(`^${c.profile.name}-config-[a-z0-9]{10}$`))
      expect(Object.keys(cm.data).sort()).toEqual(['ff-ha.yaml', 'settings.js'])
      const sts = objects.find(o => o.kind === 'StatefulSet')
      expect(sts.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.name).toBe(cm.metadata.name)
    })
  }
})

describe('the Kubernetes image is the Compose image', () => {
  // Whatever the Compose build does (templates/compose/Dockerfile, build context = the rendered tree), the
  // Kubernetes tree holds the same Dockerfile and the same build inputs, and the StatefulSet runs the image
  // that Compose tags; the README's `docker build -t <registry>/<image> deploy` builds exactly that.
  for (const mode of ['hot-spare', 'load-balanced'] as const) {
    it(`${mode}: same Dockerfile, same files it copies, same image reference`, () => {
      const text = (target: string) => `name: orders\nmode: ${mode}\ntarget: ${target}\n`
      const render = (target: string) => renderProject({profile: parseProfileText(text(target), 'ff-ha.yaml'), profileText: text(target), version: '0.1.0'})
      const [compose, kube] = [render('compose'), render('kubernetes')]
      expect(kube[RENDERED.dockerfile]).toBe(compose[RENDERED.dockerfile])
      const copied = [...compose[RENDERED.dockerfile].matchAll(/^(?:COPY|ADD)\s+(?:--\S+\s+)*(.+)\s+\S+$/gm)].flatMap(m => m[1].split(/\s+/))
      for (const src of copied) expect(Object.keys(kube).some(f => f === src || f.startsWith(`${src.replace(/\/$/, '')}/`)), src).toBe(Object.keys(compose).some(f => f === src || f.startsWith(`${src.replace(/\/$/, '')}/`)))
      const composeImage = parse(compose[RENDERED.compose]).services['orders-0'].image
      const sts = parse(kube['statefulset.yaml'])
      expect(sts.spec.template.spec.containers[0].image).toBe(composeImage)
      expect(composeImage).toBe('orders-node-red:4.1.8-ff-ha0.1.0')
    })
  }
})
