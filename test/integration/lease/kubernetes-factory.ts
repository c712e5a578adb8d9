// Opens the kubernetes lease store for the conformance suite, in the test process and in each worker process:
// @kubernetes/client-node's real CoordinationV1Api, pointed at the fake API server's URL.
import {KubernetesLeaseStore} from '../../../src/agent/lease/kubernetes.js'
import type {LeaseStoreFactory} from '../../support/lease-conformance.js'
import {leaseApiAt} from '../../unit/agent/fake-lease-api.js'

const factory: LeaseStoreFactory = {
  async open(spec) {
    const {url, namespace, name} = spec as {url: string; namespace: string; name: string}
    return new KubernetesLeaseStore(leaseApiAt(url), namespace, name)
  },
}
export default factory
