import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll} from 'vitest'
import {skipWithoutEtcd, startEtcd, type EtcdCluster} from '../../../harness/etcd.js'
import {leaseStoreConformance} from '../../support/lease-conformance.js'

// The etcd lease on a REAL etcd (Debian's etcd-server 3.4, one member on loopback started here by
// harness/etcd.ts), through the real store (etcd's v3 JSON gateway), opened by this process and by real worker
// processes, as one agent per replica does. Every test gets a key prefix of its own. Without etcd this file
// says loudly what did not run (and fails under CI=true or FF_HA_REQUIRE_ETCD=1).
const skip = skipWithoutEtcd('test/integration/lease/etcd.test.ts (the lease-store conformance suite on a real etcd)')

let etcd: EtcdCluster | undefined
if (!skip) {
  beforeAll(async () => {
    etcd = await startEtcd(1)
  }, 60_000)
  afterAll(async () => {
    await etcd?.destroy()
  })

  leaseStoreConformance({
    name: 'etcd (real etcd 3.4 member, real processes)',
    factory: new URL('./etcd-factory.ts', import.meta.url),
    async fresh() {
      return {spec: {endpoints: etcd!.endpoints, prefix: `/ff-ha-test/${randomBytes(6).toString('hex')}/`, name: 'flows-leader'}, cleanup: async () => {}}
    },
  })
}
