import {RemoteError, errorMessage} from '../../../errors.js'
import type {LeaseBackend} from './types.js'
import {defaultLeaseName} from './types.js'
import {ENV} from '../../../model/env.js'

// A coordination.k8s.io/v1 Lease: every renew is an API-server write shared with the whole cluster, and
// etcd latency spikes of a second happen, so client-go's conservative defaults (15 s / 10 s / 2 s) are the
// right start; health checks also back off to what kubelet probes do.
export const kubernetesLeaseBackend: LeaseBackend<'kubernetes', Record<never, never>, Record<never, never>> = {
  id: 'kubernetes',
  summary: 'kubernetes (a Lease object)',
  targets: ['kubernetes'],
  defaultFor: 'kubernetes',
  // The namespace is the profile's kubernetes.namespace (or the pod's); credentials are the pod's
  // service account: nothing of its own in failover.
  profileFields: {},
  wrongTarget: () => ({path: ['failover', 'lease'], message: 'a kubernetes lease needs a cluster; on compose use "sqlite"', hint: 'set failover.lease: sqlite, or leave it out (the default on compose)'}),
  defaultTimings: {
    leaseDurationMs: 15000,
    renewDeadlineMs: 10000,
    retryPeriodMs: 2000,
    healthIntervalMs: 2000,
    healthTimeoutMs: 1000,
    healthFailureThreshold: 3,
  },
  // Every read is an API-server request: candidates keep to retryPeriod.
  candidatePollMs: null,
  options: () => ({}),
  async open({name, namespace}, replica) {
    try {
      const {KubernetesLeaseStore, inClusterLeaseApi, podNamespace} = await import('../kubernetes.js')
      return new KubernetesLeaseStore(await inClusterLeaseApi(), podNamespace(namespace), name)
    } catch (err) {
      throw new RemoteError(`${replica}: cannot use the Kubernetes API for the lease (${errorMessage(err)})`, {
        replica,
        hint: 'the kubernetes lease needs in-cluster config (a pod with a service account allowed to get/create/update leases)',
      })
    }
  },
  render: {
    kubernetes: profile => ({
      env: [{name: ENV.leaseName, value: defaultLeaseName(profile)}],
      rbac: {resourceNames: [defaultLeaseName(profile)]},
    }),
  },
}
