// A FAKE of the Kubernetes coordination.k8s.io/v1 Lease API, in memory: no API server runs here. It does
// what the agent relies on from a real one: 404 for a missing Lease, 409 AlreadyExists for a second create,
// 409 Conflict for a replace whose metadata.resourceVersion is not the current one, a new resourceVersion
// at every write. Every request body is serialised the way @kubernetes/client-node puts it on the wire and
// validated against kubernetes-models' Lease schema (422 if invalid). Stricter than a real server in one
// way: a replace WITHOUT a resourceVersion is refused (a real one would apply it unconditionally), because
// the agent must never write without the version it read.
import {ApiException, type V1Lease} from '@kubernetes/client-node'
import {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'
import {Lease} from 'kubernetes-models/coordination.k8s.io/v1'
import type {LeaseApi} from '../../../src/agent/lease/kubernetes.js'

type Wire = Record<string, any>

export class FakeLeaseApi implements LeaseApi {
  private readonly leases = new Map<string, Wire>()
  private rv = 100
  readonly requests: {verb: string; body?: Wire}[] = []
  /** Runs before a create is applied (to make another create win the race in between). */
  beforeCreate: (() => Promise<void>) | null = null
  /** Answer the next request with this HTTP status instead. */
  failNext: number | null = null

  async readNamespacedLease({name, namespace}: {name: string; namespace: string}): Promise<V1Lease> {
    this.requests.push({verb: 'get'})
    this.maybeFail()
    const wire = this.leases.get(`${namespace}/${name}`)
    if (!wire) throw this.error(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`)
    return ObjectSerializer.deserialize(structuredClone(wire), 'V1Lease', '') as V1Lease
  }

  async createNamespacedLease({namespace, body}: {namespace: string; body: V1Lease}): Promise<V1Lease> {
    const wire = this.toWire(body)
    this.requests.push({verb: 'create', body: wire})
    this.maybeFail()
    this.validate(wire)
    if (this.beforeCreate) {
      const hook = this.beforeCreate
      this.beforeCreate = null
      await hook()
    }
    const key = `${namespace}/${wire.metadata?.name}`
    if (wire.metadata?.namespace && wire.metadata.namespace !== namespace) throw this.error(400, 'BadRequest', 'the namespace of the object does not match the namespace on the request')
    if (this.leases.has(key)) throw this.error(409, 'AlreadyExists', `leases.coordination.k8s.io "${wire.metadata?.name}" already exists`)
    const stored = {...wire, metadata: {...wire.metadata, namespace, resourceVersion: String(++this.rv), uid: `uid-${this.rv}`, creationTimestamp: new Date().toISOString()}}
    this.leases.set(key, stored)
    return ObjectSerializer.deserialize(structuredClone(stored), 'V1Lease', '') as V1Lease
  }

  async replaceNamespacedLease({name, namespace, body}: {name: string; namespace: string; body: V1Lease}): Promise<V1Lease> {
    const wire = this.toWire(body)
    this.requests.push({verb: 'update', body: wire})
    this.maybeFail()
    this.validate(wire)
    const key = `${namespace}/${name}`
    const current = this.leases.get(key)
    if (!current) throw this.error(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`)
    const given = wire.metadata?.resourceVersion
    if (!given) throw this.error(422, 'Invalid', 'the fake refuses a replace without metadata.resourceVersion')
    if (given !== current.metadata.resourceVersion) {
      throw this.error(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`)
    }
    const stored = {...wire, metadata: {...current.metadata, ...wire.metadata, resourceVersion: String(++this.rv)}}
    this.leases.set(key, stored)
    return ObjectSerializer.deserialize(structuredClone(stored), 'V1Lease', '') as V1Lease
  }

  /** What is stored, as JSON (for assertions). */
  stored(namespace: string, name: string): Wire | undefined {
    return this.leases.get(`${namespace}/${name}`)
  }

  private toWire(body: V1Lease): Wire {
    return JSON.parse(JSON.stringify(ObjectSerializer.serialize(body, 'V1Lease', '')))
  }

  private validate(wire: Wire): void {
    try {
      new Lease(wire as ConstructorParameters<typeof Lease>[0]).validate()
    } catch (err) {
      throw this.error(422, 'Invalid', `Lease is invalid: ${(err as Error).message}`)
    }
  }

  private maybeFail(): void {
    if (this.failNext === null) return
    const code = this.failNext
    this.failNext = null
    throw this.error(code, code === 403 ? 'Forbidden' : 'InternalError', `fake failure ${code}`)
  }

  private error(code: number, reason: string, message: string): ApiException<string> {
    const body = JSON.stringify({kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code})
    return new ApiException(code, `HTTP-Code: ${code}\nMessage: ${message}`, body, {})
  }
}
