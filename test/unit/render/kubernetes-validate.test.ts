import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {StatefulSet} from 'kubernetes-models/apps/v1/StatefulSet'
import {Service} from 'kubernetes-models/v1/Service'
import {ServiceAccount} from 'kubernetes-models/v1/ServiceAccount'
import {PodDisruptionBudget} from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import {Ingress} from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import {Role} from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import {RoleBinding} from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
// client-node's generated serializer knows every field of every model (a deep import: not its public API).
import {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'
import {packageRoot} from '../../../src/paths.js'
import {RENDERED} from '../../../src/render/names.js'
import {goldenCases} from '../../golden/cases.js'

// Every Kubernetes object validated with kubernetes-models, checked for unknown fields by a round trip through
// @kubernetes/client-node's models (kubernetes-models ignores extra keys), then checked for what schemas miss.
// No cluster runs here: `kubectl apply --dry-run=server` is not run.
type Obj = {apiVersion: string; kind: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>}; spec?: any; rules?: any[]; roleRef?: any; subjects?: any[]}

const MODELS: Record<string, {model: new (o: any) => {validate(): void}; type: string}> = {
  StatefulSet: {model: StatefulSet, type: 'V1StatefulSet'},
  Service: {model: Service, type: 'V1Service'},
  ServiceAccount: {model: ServiceAccount, type: 'V1ServiceAccount'},
  PodDisruptionBudget: {model: PodDisruptionBudget, type: 'V1PodDisruptionBudget'},
  Ingress: {model: Ingress, type: 'V1Ingress'},
  Role: {model: Role, type: 'V1Role'},
  RoleBinding: {model: RoleBinding, type: 'V1RoleBinding'},
}

const roundTrip = (obj: unknown, type: string) => ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, type, ''), type, '')
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v)

describe('the model checks themselves', () => {
  it('kubernetes-models rejects a wrong type and the round trip sees an unknown field', () => {
    expect(() => new Service({metadata: {name: 'x'}, spec: {ports: [{port: 'eighty'}]}} as any).validate()).toThrow(/port/)
    const bad = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'x'}, spec: {selectr: {a: 'b'}}}
    expect(roundTrip(bad, 'V1Service')).not.toEqual(bad)
  })
})

describe('templates/kubernetes', () => {
  const dir = join(packageRoot, 'templates', 'kubernetes')
  for (const file of readdirSync(dir).filter(f => f !== 'kustomization.yaml')) {
    it(`${file} is a valid object as is`, () => {
      const obj = parse(readFileSync(join(dir, file), 'utf8'))
      const m = MODELS[obj.kind]
      expect(() => new m.model(obj).validate()).not.toThrow()
      expect(roundTrip(obj, m.type)).toEqual(obj)
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
      it(`${file}: valid ${obj.kind} per kubernetes-models, no unknown fields, recommended labels, the profile's namespace`, () => {
        const m = MODELS[obj.kind]
        expect(m, `no model for ${obj.kind}`).toBeDefined()
        expect(() => new m.model(obj).validate()).not.toThrow()
        expect(roundTrip(obj, m.type)).toEqual(obj)
        expect(obj.metadata.namespace).toBe(p.kubernetes.namespace)
        for (const k of ['name', 'instance', 'managed-by', 'part-of', 'component', 'version']) {
          expect(obj.metadata.labels?.[`app.kubernetes.io/${k}`], k).toBeTruthy()
        }
      })
    }

    it('renders no Secret and no cluster-wide object; secrets are referenced by name', () => {
      expect(all.map(o => o.kind)).not.toContain('Secret')
      expect(all.filter(o => o.kind.startsWith('Cluster'))).toEqual([])
      const refs = container.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => [e.name, e.valueFrom.secretKeyRef.name])
      expect(refs).toEqual([
        [p.secrets.adminTokenEnv, p.secrets.kubernetesSecret],
        [p.secrets.credentialSecretEnv, p.secrets.kubernetesSecret],
        [p.secrets.statusTokenEnv, p.secrets.kubernetesSecret],
      ])
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

    it(`probes: readiness ${hotSpare ? '/active' : '/healthz'}, liveness and startup /healthz, all on ports that exist`, () => {
      expect(container.readinessProbe.httpGet.path).toBe(hotSpare ? '/active' : '/healthz')
      expect(container.livenessProbe.httpGet.path).toBe('/healthz')
      expect(container.startupProbe.httpGet.path).toBe('/healthz')
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        expect(ports.get(probe.httpGet.port)).toBe(p.failover.statusPort)
      }
      expect(ports.get('http')).toBe(p.http.port)
    })

    it('pods: non-root, no privilege escalation, anti-affinity per node, spread across zones when asked, resources set', () => {
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true)
      expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0)
      expect(container.securityContext.allowPrivilegeEscalation).toBe(false)
      expect(container.securityContext.capabilities.drop).toEqual(['ALL'])
      const anti = pod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]
      expect(matches(anti.labelSelector.matchLabels, pod.metadata.labels)).toBe(true)
      expect(anti.topologyKey).toBe('kubernetes.io/hostname')
      const spread = pod.spec.topologySpreadConstraints ?? []
      expect(spread.map((s: any) => s.topologyKey)).toEqual(p.kubernetes.spreadAcrossZones ? ['topology.kubernetes.io/zone'] : [])
      for (const s of spread) expect(matches(s.labelSelector.matchLabels, pod.metadata.labels)).toBe(true)
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

    it(hotSpare ? 'hot-spare: the Role allows only create on leases and get/update on its own Lease, bound to the pods\' ServiceAccount' : 'load-balanced: no RBAC and no service account token', () => {
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

    it(p.kubernetes.ingress.host ? 'Ingress: routes the host to the Service port that exists, sticky for the editor' : 'no Ingress without a host', () => {
      const ing = byKind('Ingress')[0]
      if (!p.kubernetes.ingress.host) return expect(ing).toBeUndefined()
      const backend = ing.spec.rules[0].http.paths[0].backend.service
      const svc = byKind('Service').find(s => s.metadata.name === backend.name)!
      expect(svc.spec.ports.map((x: any) => x.name)).toContain(backend.port.name)
      expect(ing.spec.rules[0].host).toBe(p.kubernetes.ingress.host)
      const annotations = (ing.metadata as any).annotations ?? {}
      expect(annotations['nginx.ingress.kubernetes.io/affinity']).toBe(p.http.editor && p.http.sticky ? 'cookie' : undefined)
    })
  })
}
