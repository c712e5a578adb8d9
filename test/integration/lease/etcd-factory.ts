// Opens the etcd lease store for the conformance suite, in the test process and in each worker process: the
// real store (etcd's v3 JSON gateway through undici) on the real etcd member that etcd.test.ts started.
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
    return new EtcdLeaseStore({endpoints, prefix, name, attemptTimeoutMs: 2000, operationTimeoutMs: 5000})
  },
}
export default factory
