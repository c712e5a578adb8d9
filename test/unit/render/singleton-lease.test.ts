import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {FfHaError} from '../../../src/errors.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {renderComposeFiles} from '../../../src/render/compose.js'
import {kubernetesObjects} from '../../../src/render/kubernetes.js'

// Load-balanced replicas hold no replica lease, but their `ff-ha singleton` nodes each hold a lease of their
// own: render gives them the lease backend (docs/design/singleton.md).

type Obj = Record<string, any>

const lb = (extra = '') => parseProfileText(`name: shop\nmode: load-balanced\ntarget: kubernetes\n${extra}`)

describe('render: the singleton leases of load-balanced replicas', () => {
  it('kubernetes: the Role allows exactly the listed singletons\' leases; the pods get the service account and may reach the API server', () => {
    const objects = kubernetesObjects(lb('failover:\n  singletons: [nightly-report, poller]\nkubernetes:\n  networkPolicy:\n    enabled: true\n    apiServer: [10.0.0.1/32]\n'), '0.0.0')
    const role = objects['role.yaml'] as Obj
    const named = role.rules.find((r: Obj) => r.resourceNames)
    expect(named.resourceNames).toEqual(['shop-leader-singleton-nightly-report', 'shop-leader-singleton-poller'])
    const pod = (objects['statefulset.yaml'] as Obj).spec.template.spec
    expect(pod.serviceAccountName).toBe('shop-agent')
    expect(pod.automountServiceAccountToken).toBeUndefined()
    expect(pod.containers[0].env).toContainEqual({name: 'FF_HA_LEASE_NAME', value: 'shop-leader'})
    const egress = (objects['networkpolicy.yaml'] as Obj).spec.egress as Obj[]
    expect(egress.some(e => JSON.stringify(e).includes('10.0.0.1/32'))).toBe(true)
  })

  it('kubernetes without singletons: no Role, no service account token, as before', () => {
    const objects = kubernetesObjects(lb(), '0.0.0')
    expect(objects['role.yaml']).toBeUndefined()
    expect((objects['statefulset.yaml'] as Obj).spec.template.spec.automountServiceAccountToken).toBe(false)
  })

  it('compose: every load-balanced replica mounts the shared lease volume', () => {
    const files = renderComposeFiles(parseProfileText('name: shop\nmode: load-balanced\ntarget: compose\n'), '0.0.0')
    const compose = parse(files['compose.yaml']) as Obj
    const replicas = Object.entries(compose.services as Obj).filter(([name]) => /^shop-\d+$/.test(name))
    expect(replicas.length).toBe(2)
    for (const [, svc] of replicas) {
      expect(svc.environment.FF_HA_LEASE_FILE).toBe('/var/lib/ff-ha/lease.db')
      expect(svc.volumes).toContain('lease:/var/lib/ff-ha')
    }
    expect(compose.volumes).toHaveProperty('lease')
  })

  it('profile: a singleton name that cannot be a lease name is an input error at its line', () => {
    let error: unknown
    try {
      lb('failover:\n  singletons: [Nightly Report]\n')
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(FfHaError)
    expect((error as Error).message).toMatch(/ff-ha\.yaml:5:\d+.*lower-case letters, digits and "-"/)
  })
})
