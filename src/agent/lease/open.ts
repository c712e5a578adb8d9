import {RemoteError, errorMessage} from '../../errors.js'
import type {AgentConfig} from '../config.js'
import {KubernetesLeaseStore, inClusterLeaseApi, podNamespace} from './kubernetes.js'
import type {LeaseStore} from './store.js'

/** The profile's lease backend, opened. */
export async function openLeaseStore(config: AgentConfig): Promise<LeaseStore> {
  const {backend, file, name, namespace} = config.lease
  if (backend === 'kubernetes') {
    try {
      return new KubernetesLeaseStore(await inClusterLeaseApi(), podNamespace(namespace), name)
    } catch (err) {
      throw new RemoteError(`${config.replica}: cannot use the Kubernetes API for the lease (${errorMessage(err)})`, {
        replica: config.replica,
        hint: 'the kubernetes lease needs in-cluster config (a pod with a service account allowed to get/create/update leases)',
      })
    }
  }
  try {
    const {SqliteLeaseStore} = await import('./sqlite.js')
    return new SqliteLeaseStore(file, name)
  } catch (err) {
    throw new RemoteError(`${config.replica}: cannot open the sqlite lease ${file} (${errorMessage(err)})`, {
      replica: config.replica,
      hint: 'the lease file must be on a local filesystem shared by the replicas, and writable',
    })
  }
}
