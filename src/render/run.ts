import {basename} from 'node:path'
import {parseProfileText, readProfileText} from '../profile/load.js'
import {statefulSetRecreateWarnings} from './kubernetes-recreate.js'
import {cliVersion} from './names.js'
import {packReplicaPackage} from './package-tarball.js'
import {renderProject} from './project.js'
import {composeLeaseVolumes} from './compose.js'
import {checkLeaseVolume} from './lease-volume.js'
import {checkOutDir, checkRender, hasChanges, writeRender, type FileStatus, type WriteResult} from './write.js'
import type {ModeId} from '../modes/index.js'

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
  mode: ModeId
  check: boolean
  /** True when the files on disk differ from what the profile renders (before writing, when not --check). */
  changed: boolean
  files: {path: string; status: FileStatus}[]
  /** Changes the target cannot apply in place (a StatefulSet's volumeClaimTemplates), each with how to apply it. */
  warnings: string[]
  /** Set when an interrupted earlier render was found: its previous tree was restored from this path first. */
  recovered?: string
}

/** Load the profile, render it, and write the tree atomically (or, with check, only compare). */
export function renderFromProfile(options: RenderOptions): RenderResult {
  // One read: the profile that is checked is the profile that is copied into the tree.
  const profileText = readProfileText(options.profileFile)
  const profile = parseProfileText(profileText, options.profileFile)
  checkOutDir(options.outDir, options.profileFile)
  if (profile.target === 'compose') checkLeaseVolume(options.outDir, composeLeaseVolumes(profile))
  const files = renderProject({profile, profileText, source: basename(options.profileFile)})
  // Compared with the StatefulSet on disk, so before the write replaces it.
  const warnings = profile.target === 'kubernetes' ? statefulSetRecreateWarnings(profile, options.outDir, files) : []
  const plan: WriteResult = options.check ? checkRender(options.outDir, files, {force: options.force}) : writeRender(options.outDir, files, {force: options.force})
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
    warnings,
    ...(plan.recovered ? {recovered: plan.recovered} : {}),
  }
}
