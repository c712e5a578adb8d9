import type {AgentConfig} from '../config.js'
import {leaseBackend} from './backends/index.js'
import type {LeaseStore} from './store.js'

/** The profile's lease backend, opened (each backend throws RemoteError, naming the replica, when it cannot). */
export async function openLeaseStore(config: AgentConfig): Promise<LeaseStore> {
  return leaseBackend(config.lease.backend).open(config.lease, config.replica)
}
