import {leaseStoreConformance} from '../../support/lease-conformance.js'
import {FakeLeaseServer} from '../../unit/agent/fake-lease-api.js'

// The kubernetes lease against a FAKE API server (test/unit/agent/fake-lease-api.ts) on 127.0.0.1: a real
// Kubernetes API server cannot run here. The fake decodes and judges requests as the API server does
// (resourceVersion compare-and-swap, 409 AlreadyExists/Conflict, 404 NotFound, MicroTime); every store, in this
// process and in each worker process, reaches it through @kubernetes/client-node's real CoordinationV1Api.
leaseStoreConformance({
  name: 'kubernetes (fake API server, real processes)',
  factory: new URL('./kubernetes-factory.ts', import.meta.url),
  async fresh() {
    const fake = new FakeLeaseServer()
    await fake.start()
    return {spec: {url: fake.url, namespace: 'prod', name: 'flows-leader'}, cleanup: () => fake.stop()}
  },
})
