import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {leaseStoreConformance} from '../../support/lease-conformance.js'

// The sqlite lease: a real SQLite file in a temporary directory (a sub-directory that does not exist yet, as
// on a fresh volume), opened by this process and by real worker processes, as one agent per replica does.
leaseStoreConformance({
  name: 'sqlite (real file, real processes)',
  factory: new URL('./sqlite-factory.ts', import.meta.url),
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-lease-'))
    return {spec: {file: join(dir, 'volume', 'lease.db'), name: 'conformance'}, cleanup: async () => rmSync(dir, {recursive: true, force: true})}
  },
})
