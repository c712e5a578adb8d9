import {readFileSync} from 'node:fs'
import type {V1Lease} from '@kubernetes/client-node'
import type {LeaseRecord, Observed} from './machine.js'
import type {LeaseStore} from './store.js'

/** The part of @kubernetes/client-node's CoordinationV1Api (object-parameter style) that the lease uses. */
export interface LeaseApi {
  readNamespacedLease(param: {name: string; namespace: string}): Promise<V1Lease>
  createNamespacedLease(param: {namespace: string; body: V1Lease}): Promise<V1Lease>
  replaceNamespacedLease(param: {name: string; namespace: string; body: V1Lease}): Promise<V1Lease>
}

const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

/** The pod's namespace: the service account's namespace file, else POD_NAMESPACE, else the profile's. */
export function podNamespace(fallback: string): string {
  try {
    const ns = readFileSync(NAMESPACE_FILE, 'utf8').trim()
    if (ns) return ns
  } catch {
    // not in a pod
  }
  return process.env.POD_NAMESPACE || fallback
}

/** A CoordinationV1Api from the in-cluster service account (loaded lazily: the client is large). */
export async function inClusterLeaseApi(): Promise<LeaseApi> {
  const k8s = await import('@kubernetes/client-node')
  const kc = new k8s.KubeConfig()
  kc.loadFromCluster()
  return kc.makeApiClient(k8s.CoordinationV1Api)
}

function statusOf(err: unknown): number | undefined {
  const e = err as {code?: unknown; statusCode?: unknown; response?: {statusCode?: unknown}}
  for (const v of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof v === 'number') return v
  return undefined
}

// A Lease in coordination.k8s.io/v1, as client-go's LeaseLock writes it. leaseDurationSeconds is whole
// seconds (rounded up); times are MicroTime. Every replace carries the resourceVersion that was read, so
// the API server refuses (409) a write that raced another; a create that races another create gets 409
// AlreadyExists. Both are conflicts: the caller reads again.
export class KubernetesLeaseStore implements LeaseStore {
  readonly describe: string
  private last: V1Lease | null = null

  constructor(private readonly api: LeaseApi, private readonly namespace: string, private readonly name: string) {
    this.describe = `kubernetes lease ${namespace}/${name}`
  }

  async read(): Promise<Observed> {
    try {
      const lease = await this.api.readNamespacedLease({name: this.name, namespace: this.namespace})
      this.last = lease
      return {record: toRecord(lease), version: lease.metadata?.resourceVersion ?? null}
    } catch (err) {
      if (statusOf(err) === 404) {
        this.last = null
        return {record: null, version: null}
      }
      throw err
    }
  }

  async write(record: LeaseRecord, version: string | null): Promise<string | null> {
    // Imported at the first write, not at the top: the client is large, and reading needs none of it.
    const {V1MicroTime} = await import('@kubernetes/client-node')
    try {
      if (version === null) {
        const body: V1Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {name: this.name, namespace: this.namespace, labels: {'app.kubernetes.io/managed-by': 'ff-ha'}},
          spec: toSpec(record, V1MicroTime),
        }
        const created = await this.api.createNamespacedLease({namespace: this.namespace, body})
        this.last = created
        return created.metadata?.resourceVersion ?? ''
      }
      const base = this.last
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {...(base?.metadata ?? {}), name: this.name, namespace: this.namespace, resourceVersion: version},
        spec: toSpec(record, V1MicroTime),
      }
      const replaced = await this.api.replaceNamespacedLease({name: this.name, namespace: this.namespace, body})
      this.last = replaced
      return replaced.metadata?.resourceVersion ?? ''
    } catch (err) {
      const status = statusOf(err)
      if (status === 409 || status === 404) return null
      throw err
    }
  }

  async close(): Promise<void> {}
}

function toSpec(record: LeaseRecord, MicroTime: new (ms: number) => Date): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: record.holder ?? '',
    leaseDurationSeconds: Math.max(1, Math.ceil(record.leaseDurationMs / 1000)),
    // MicroTime on the wire: the API server parses it with Go's layout "2006-01-02T15:04:05.000000Z07:00"
    // (exactly six fractional digits) and answers 400 to a plain Date's "...05.123Z". V1MicroTime writes
    // "...05.123000Z".
    acquireTime: new MicroTime(record.acquireTime),
    renewTime: new MicroTime(record.renewTime),
    leaseTransitions: record.transitions,
  }
}

function toRecord(lease: V1Lease): LeaseRecord | null {
  const spec = lease.spec
  if (!spec) return null
  const time = (t: unknown) => (t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : 0)
  return {
    holder: spec.holderIdentity ? spec.holderIdentity : null,
    leaseDurationMs: (spec.leaseDurationSeconds ?? 0) * 1000,
    acquireTime: time(spec.acquireTime),
    renewTime: time(spec.renewTime),
    transitions: spec.leaseTransitions ?? 0,
  }
}
