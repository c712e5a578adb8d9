import type {LeaseConfig} from '../lease/backends/index.js'
import type {FlowsRecordStore} from './record.js'

/**
 * The flows record beside the lease, in the same store (docs/design/editor-deploy.md), or null for a backend
 * that has none yet. Throws when the store cannot be opened (the caller decides what that means).
 */
export async function openFlowsRecordStore(lease: LeaseConfig): Promise<FlowsRecordStore | null> {
  switch (lease.backend) {
    case 'sqlite': {
      const {SqliteFlowsRecordStore} = await import('./sqlite.js')
      return new SqliteFlowsRecordStore(lease.file, lease.name)
    }
    case 'kubernetes': {
      const {KubernetesFlowsRecordStore, inClusterConfigMapApi} = await import('./kubernetes.js')
      const {podNamespace} = await import('../lease/kubernetes.js')
      return new KubernetesFlowsRecordStore(await inClusterConfigMapApi(), podNamespace(lease.namespace), lease.name)
    }
    case 'etcd': {
      // The lease's cluster, endpoints, prefix, TLS and etcd user; a client of its own (its own deadlines).
      const {EtcdFlowsRecordStore} = await import('./etcd.js')
      return new EtcdFlowsRecordStore({endpoints: lease.endpoints, prefix: lease.prefix, name: lease.name, ...(lease.tls ? {tls: lease.tls} : {}), ...(lease.auth ? {auth: lease.auth} : {})})
    }
    default:
      return null
  }
}
