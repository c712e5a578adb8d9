import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {LineCounter, isMap, isScalar, parseDocument, type Node} from 'yaml'
import {InputError} from '../errors.js'

// The sqlite lease, and the liveness locks that let a spare take over a dead replica at once
// (agent/lease/liveness.ts), need ONE kernel's local filesystem: POSIX locks over NFS or SMB are not the
// same kernel's, and WAL needs shared memory. render writes the lease volume as a plain local volume; a user
// can still turn it into a network one in a Compose override file beside the rendered project (Compose
// merges compose.override.yaml by default). render refuses that here, naming the place.

const OVERRIDES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml']
const NETWORK = /^(nfs4?|cifs|smb3?|ceph|glusterfs|9p|fuse(\..*)?|sshfs|virtiofs)$/i

/** Throws InputError (file:line:col) when an override file puts the lease volume on a network filesystem. */
export function checkLeaseVolume(outDir: string, volumeNames: string[]): void {
  for (const name of OVERRIDES) {
    const file = join(outDir, name)
    if (!existsSync(file)) continue
    const lineCounter = new LineCounter()
    const doc = parseDocument(readFileSync(file, 'utf8'), {lineCounter})
    const volumes = doc.get('volumes', true)
    if (!isMap(volumes)) continue
    for (const volume of volumeNames) {
      const v = volumes.get(volume, true)
      if (!isMap(v)) continue
      const driver = v.get('driver', true)
      const type = isMap(v.get('driver_opts', true)) ? (v.getIn(['driver_opts', 'type'], true) as Node | undefined) : undefined
      const at = (node: Node | undefined) => {
        const pos = lineCounter.linePos(node?.range?.[0] ?? 0)
        return `${file}:${pos.line}:${pos.col}`
      }
      const why =
        isScalar(type) && NETWORK.test(String(type.value))
          ? {node: type, what: `driver_opts type ${String(type.value)}`}
          : isScalar(driver) && String(driver.value) !== 'local'
            ? {node: driver as Node, what: `volume driver ${String(driver.value)}`}
            : null
      if (why) {
        throw new InputError(
          `${at(why.node)} volumes.${volume} uses ${why.what}: the sqlite lease and its liveness locks need a local filesystem of one host (POSIX locks and shared memory are per kernel)`,
          'keep the lease volume local (remove driver/driver_opts); replicas on several hosts need a lease that spans hosts',
        )
      }
    }
  }
}
