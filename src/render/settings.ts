import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {templatesDir} from '../paths.js'
import type {Profile} from '../profile/schema.js'

export interface SettingsValues {
  flowFile: string
  adminRoot: string
  contextStorage: 'memory' | 'localfilesystem'
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
  adminTokenEnv: 'FF_HA_ADMIN_TOKEN',
  credentialSecretEnv: 'FF_HA_CREDENTIAL_SECRET',
  extra: {},
}

export function settingsValuesFromProfile(p: Profile): SettingsValues {
  return {
    flowFile: p.nodeRed.flowFile,
    adminRoot: p.nodeRed.adminRoot,
    contextStorage: p.nodeRed.contextStorage,
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
  if (!HOLE.test(template)) throw new Error('templates/node-red/settings.js lost its ff-ha:profile line')
  return template.replace(HOLE, () => `const profile = ${JSON.stringify(values)} // ff-ha:profile`)
}
