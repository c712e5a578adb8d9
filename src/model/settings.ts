import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {templatesDir} from '../paths.js'
import type {Profile} from '../profile/schema.js'
import {BugError} from '../errors.js'
import {ENV} from './env.js'
import {contextPlan, type SharedContextPlan} from './context-storage.js'

export interface SettingsValues {
  flowFile: string
  adminRoot: string
  /** The default store: a Node-RED module name, or "shared" (ff-ha's store, below). */
  contextStorage: 'memory' | 'localfilesystem' | 'shared'
  /** ff-ha's shared store; absent or null: none. */
  sharedContext?: SharedContextPlan | null
  editor: boolean
  port: number
  /** Node-RED's apiMaxLength: the largest admin API request body (a deploy). */
  apiMaxLength: string
  adminTokenEnv: string
  credentialSecretEnv: string
  extra: Record<string, unknown>
}

export const DEFAULT_SETTINGS_VALUES: SettingsValues = {
  flowFile: 'flows.json',
  adminRoot: '/',
  contextStorage: 'memory',
  editor: true,
  port: 1880,
  apiMaxLength: '50mb',
  adminTokenEnv: ENV.adminToken,
  credentialSecretEnv: ENV.credentialSecret,
  extra: {},
}

export function settingsValuesFromProfile(p: Profile): SettingsValues {
  const context = contextPlan(p)
  return {
    flowFile: p.nodeRed.flowFile,
    adminRoot: p.nodeRed.adminRoot,
    contextStorage: context.default,
    // only when there is one: the settings of profiles without it stay as they were
    ...(context.shared ? {sharedContext: context.shared} : {}),
    editor: p.http.editor,
    port: p.http.port,
    apiMaxLength: p.nodeRed.apiMaxLength,
    adminTokenEnv: p.secrets.adminTokenEnv,
    credentialSecretEnv: p.secrets.credentialSecretEnv,
    extra: p.nodeRed.settings,
  }
}

const HOLE = /^const profile = .*\/\/ ff-ha:profile$/m

/** The settings.js that every replica uses: the template with its one hole filled. */
export function renderSettings(values: SettingsValues = DEFAULT_SETTINGS_VALUES): string {
  const template = readFileSync(join(templatesDir, 'node-red', 'settings.js'), 'utf8')
  if (!HOLE.test(template)) throw new BugError('templates/node-red/settings.js lost its ff-ha:profile line')
  return template.replace(HOLE, () => `const profile = ${JSON.stringify(values)} // ff-ha:profile`)
}

/** An apiMaxLength ("50mb", "512kb", "1gb" or bytes) in bytes, as Node-RED's body parser reads it (1 kb = 1024). */
export function sizeInBytes(size: string): number {
  const m = /^(\d+)(kb|mb|gb)?$/i.exec(size.trim())
  if (!m) throw new BugError(`sizeInBytes: not a size: ${size} (the profile schema lets only sizes through)`)
  const unit = {kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3}[(m[2] ?? '').toLowerCase() as 'kb' | 'mb' | 'gb'] ?? 1
  return Number(m[1]) * unit
}
