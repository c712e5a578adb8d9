import {basename, join} from 'node:path'
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
  /** Only this host's project (the profile's hosts), at the top of outDir. */
  host?: string
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
  /** The hosts rendered (profile hosts): each in a folder of its own, or the one --host named at the top. */
  hosts?: string[]
}

/** Load the profile, render it, and write the tree atomically (or, with check, only compare). */
export function renderFromProfile(options: RenderOptions): RenderResult {
  // One read: the profile that is checked is the profile that is copied into the tree.
  const profileText = readProfileText(options.profileFile)
  const profile = parseProfileText(profileText, options.profileFile)
  checkOutDir(options.outDir, options.profileFile)
  if (profile.target === 'compose') checkLeaseVolume(options.outDir, composeLeaseVolumes(profile))
  const files = renderProject({profile, profileText, source: basename(options.profileFile), host: options.host})
  // Compared with the StatefulSet on disk, so before the write replaces it.
  const warnings = profile.target === 'kubernetes' ? statefulSetRecreateWarnings(profile, options.outDir, files) : []
  const plan: WriteResult = options.check ? checkRender(options.outDir, files, {force: options.force}) : writeRender(options.outDir, files, {force: options.force})
  // The replica image installs the running ff-ha, packed into the build context (not a registry's ff-ha).
  // With hosts, every host with replicas builds the image from its own folder.
  const hosts = options.host !== undefined ? [options.host] : profile.hosts?.map(h => h.name)
  const contexts = hosts ? hosts.filter(h => profile.hosts?.find(x => x.name === h)?.replicas).map(h => (options.host !== undefined ? '' : h)) : ['']
  if (profile.nodeRed.ffHaSource === 'pack' && contexts.length > 0) {
    for (const dir of contexts) {
      const entry = packReplicaPackage(join(options.outDir, dir), cliVersion(), {check: options.check})
      plan.entries.push(dir ? {...entry, path: `${dir}/${entry.path}`} : entry)
    }
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
    ...(hosts ? {hosts} : {}),
  }
}
