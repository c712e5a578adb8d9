import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {checkLeaseVolume} from '../../../src/render/lease-volume.js'
import {InputError} from '../../../src/errors.js'

let dir: string
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ff-ha-lease-volume-'))))
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function refusal(): InputError | undefined {
  try {
    checkLeaseVolume(dir, ['lease'])
    return undefined
  } catch (err) {
    return err as InputError
  }
}

describe('render refuses a Compose lease volume on a network filesystem', () => {
  it('an NFS lease volume in compose.override.yaml: exit 2, the file, line and column of the type', () => {
    writeFileSync(join(dir, 'compose.override.yaml'), 'volumes:\n  lease:\n    driver: local\n    driver_opts:\n      type: nfs\n      o: addr=10.0.0.5,rw\n      device: ":/export/ff-ha"\n')
    const err = refusal()
    expect(err).toBeInstanceOf(InputError)
    expect(err!.exitCode).toBe(2)
    expect(err!.message).toBe(`${join(dir, 'compose.override.yaml')}:5:13 volumes.lease uses driver_opts type nfs: the sqlite lease and its liveness locks need a local filesystem of one host (POSIX locks and shared memory are per kernel)`)
    expect(err!.hint).toMatch(/keep the lease volume local/)
  })

  it('CIFS in docker-compose.override.yml, and a plugin volume driver, are refused too', () => {
    writeFileSync(join(dir, 'docker-compose.override.yml'), 'volumes:\n  lease:\n    driver_opts: {type: cifs, device: //nas/share}\n')
    expect(refusal()?.message).toMatch(/docker-compose\.override\.yml:3:\d+ volumes\.lease uses driver_opts type cifs/)
    writeFileSync(join(dir, 'docker-compose.override.yml'), 'volumes:\n  lease:\n    driver: rexray/efs\n')
    expect(refusal()?.message).toMatch(/:3:13 volumes\.lease uses volume driver rexray\/efs/)
  })

  it('a local bind (driver_opts type none), a network volume that is not the lease, and no override file are fine', () => {
    expect(refusal()).toBeUndefined()
    writeFileSync(join(dir, 'compose.override.yaml'), 'volumes:\n  lease:\n    driver: local\n    driver_opts: {type: none, o: bind, device: /srv/ff-ha}\n  backups:\n    driver_opts: {type: nfs, device: ":/b"}\n')
    expect(refusal()).toBeUndefined()
  })
})
