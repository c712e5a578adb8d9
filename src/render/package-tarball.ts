import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RemoteError} from '../errors.js'
import {packageRoot} from '../paths.js'
import {packageTarball} from './dockerfile.js'
import type {FileStatus} from './write.js'
import {runCommandSync} from '../process/run.js'

/**
 * Put the package of the running ff-ha (`npm pack` of its own directory, lifecycle scripts off) into
 * <outDir>/ff-ha/, where the replica image's Dockerfile installs it from. npm pack is deterministic (fixed
 * mtimes), so an unchanged ff-ha gives the same bytes and --check can compare them. The file is written
 * to a temporary name and renamed: a reader never sees half a tarball.
 */
export function packReplicaPackage(outDir: string, version: string, options: {check?: boolean; root?: string} = {}): {path: string; status: FileStatus} {
  const name = packageTarball(version)
  const path = `ff-ha/${name}`
  const target = join(outDir, path)
  const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-pack-'))
  try {
    const pack = runCommandSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp, options.root ?? packageRoot], {timeoutMs: 120_000})
    if (!pack.ok) {
      const stderr = pack.stderr.split('\n').find(s => s.trim()) ?? ''
      throw new RemoteError(`npm pack of ff-ha (for the replica image's build context) failed${stderr ? `: ${stderr.trim()}` : ''}`, {
        hint: 'is npm on PATH? Or set nodeRed.ffHaSource: registry in the profile to install a published ff-ha',
      })
    }
    const packed = join(tmp, name)
    if (!existsSync(packed)) throw new RemoteError(`npm pack did not write ${name}`, {hint: 'the running ff-ha\'s package.json must have the version this render uses'})
    const status: FileStatus = !existsSync(target) ? 'added' : readFileSync(target).equals(readFileSync(packed)) ? 'unchanged' : 'changed'
    if (!options.check && status !== 'unchanged') {
      const dir = join(outDir, 'ff-ha')
      mkdirSync(dir, {recursive: true})
      copyFileSync(packed, `${target}.tmp`)
      renameSync(`${target}.tmp`, target)
      // an older version's package would only confuse whoever reads the directory
      for (const f of readdirSync(dir)) if (/^ff-ha-.*\.tgz$/.test(f) && f !== name) rmSync(join(dir, f), {force: true})
    }
    return {path, status}
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}
