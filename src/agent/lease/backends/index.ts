// The lease backends, one module each (model: ESLint's rule registry). The profile's `failover.lease` enum,
// its per-backend fields and default timings, the agent's lease config and store, and render's lease pieces
// are all read from this list: adding a backend is a module plus its line here (docs/design/adding-a-lease-backend.md).
import {etcdLeaseBackend} from './etcd.js'
import {kubernetesLeaseBackend} from './kubernetes.js'
import {sqliteLeaseBackend} from './sqlite.js'
import type {LeaseBackend, LeaseIdentity, LeaseTarget} from './types.js'
import {BugError} from '../../../errors.js'

export const LEASE_BACKENDS = [sqliteLeaseBackend, kubernetesLeaseBackend, etcdLeaseBackend] as const

type Registered = (typeof LEASE_BACKENDS)[number]
export type LeaseBackendId = Registered['id']
type OptionsOf<B> = B extends {options(input: never): infer O} ? O : never

/** The agent's lease config: which backend, which lease, and that backend's own options. */
export type LeaseConfig = {[B in Registered as B['id']]: {backend: B['id']} & LeaseIdentity & OptionsOf<B>}[LeaseBackendId]

export const LEASE_BACKEND_IDS = LEASE_BACKENDS.map(b => b.id) as [LeaseBackendId, ...LeaseBackendId[]]

const BY_ID = new Map<string, LeaseBackend<LeaseBackendId, object>>(LEASE_BACKENDS.map(b => [b.id, b as LeaseBackend<LeaseBackendId, object>]))

/** The backend with this id. Ids come from a parsed profile, so an unknown one is our fault. */
export function leaseBackend(id: LeaseBackendId): LeaseBackend<LeaseBackendId, object> {
  const backend = BY_ID.get(id)
  if (!backend) throw new BugError(`no lease backend "${id}" in the registry`)
  return backend
}

/** The backend a profile gets on this target when it names none. */
export function defaultLeaseBackend(target: LeaseTarget): LeaseBackendId {
  const backend = LEASE_BACKENDS.find(b => b.defaultFor === target)
  if (!backend) throw new BugError(`no lease backend is the default for target "${target}"`)
  return backend.id
}

type FieldsOf<B> = B extends LeaseBackend<string, object, infer F> ? F : never
type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never

/** Every backend's profile fields, in registry order: the failover section's per-backend part. */
export function leaseProfileFields(): Intersect<FieldsOf<Registered>> {
  return Object.assign({}, ...LEASE_BACKENDS.map(b => b.profileFields))
}

export type {LeaseBackend, LeaseIdentity, LeaseTarget} from './types.js'
export {defaultLeaseName} from './types.js'
