import {readFileSync} from 'node:fs'
import {basename} from 'node:path'
import {loadProfile} from '../profile/load.js'
import {cliVersion} from './names.js'
import {packReplicaPackage} from './package-tarball.js'
import {renderProject} from './project.js'
import {applyRender, checkOutDir, hasChanges, planRender, type FileStatus} from './write.js'

export interface RenderOptions {
  profileFile: string
  outDir: string
  /** Compare only: write nothing. */
  check?: boolean
  /** Overwrite files at rendered paths that ff-ha did not write. */
  force?: boolean
}

/** The documented --json shape of `ff-ha render`. */
export interface RenderResult {
  profile: string
  out: string
  target: 'compose' | 'kubernetes'
  mode: 'hot-spare' | 'load-balanced'
  check: boolean
  /** True when the files on disk differ from what the profile renders (before writing, when not --check). */
  changed: boolean
  files: {path: string; status: FileStatus}[]
}

/** Load the profile, render it, and write the tree atomically (or, with check, only compare). */
export function renderFromProfile(options: RenderOptions): RenderResult {
  const profile = loadProfile(options.profileFile)
  checkOutDir(options.outDir, options.profileFile)
  const files = renderProject({profile, profileText: readFileSync(options.profileFile, 'utf8'), source: basename(options.profileFile)})
  const plan = planRender(options.outDir, files, {force: options.force})
  if (!options.check) applyRender(plan)
  // The replica image installs the running ff-ha, packed into the build context (not a registry's ff-ha).
  if (profile.nodeRed.ffHaSource === 'pack') {
    plan.entries.push(packReplicaPackage(options.outDir, cliVersion(), {check: options.check}))
    plan.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }
  return {
    profile: options.profileFile,
    out: options.outDir,
    target: profile.target,
    mode: profile.mode,
    check: Boolean(options.check),
    changed: hasChanges(plan),
    files: plan.entries,
  }
}
