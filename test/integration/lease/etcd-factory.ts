// Opens the etcd lease store for the conformance suite, in the test process and in each worker process: the
// real store (etcd's v3 JSON gateway through undici) on the real etcd member that etcd.test.ts started. Long
// deadlines: the suite proves the semantics; a loaded machine can stall etcd's fsync for seconds. A long etcd
// lease TTL: the suite reads records that exited worker processes wrote; that etcd deletes a dead holder's key
// (and the token survives it) is etcd-store.test.ts's.
import {EtcdLeaseStore} from '../../../src/agent/lease/etcd.js'
import type {LeaseStoreFactory} from '../../support/lease-conformance.js'

export interface EtcdLeaseSpec {
  endpoints: string[]
  prefix: string
  name: string
}

const factory: LeaseStoreFactory = {
  async open(spec) {
    const {endpoints, prefix, name} = spec as EtcdLeaseSpec
    return new EtcdLeaseStore({endpoints, prefix, name, attemptTimeoutMs: 10_000, operationTimeoutMs: 20_000, minTtlSeconds: 600})
  },
}
export default factory
