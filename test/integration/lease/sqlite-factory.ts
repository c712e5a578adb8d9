// Opens the sqlite lease store for the conformance suite, in the test process and in each worker process.
import {SqliteLeaseStore} from '../../../src/agent/lease/sqlite.js'
import type {LeaseStoreFactory} from '../../support/lease-conformance.js'

const factory: LeaseStoreFactory = {
  async open(spec) {
    const {file, name} = spec as {file: string; name: string}
    return new SqliteLeaseStore(file, name)
  },
}
export default factory
