import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {templatesDir} from '../paths.js'
import type {Profile} from '../profile/schema.js'

/** The replica image's Dockerfile: the template with its ARG defaults set to the profile's and the CLI's versions. */
export function renderDockerfile(profile: Profile, version: string): string {
  const template = readFileSync(join(templatesDir, 'compose', 'Dockerfile'), 'utf8')
  const nodeRed = /^ARG NODE_RED_VERSION=.*$/m
  const ffHa = /^ARG FF_HA_VERSION=.*$/m
  if (!nodeRed.test(template) || !ffHa.test(template)) throw new Error('templates/compose/Dockerfile lost an ARG line')
  return template.replace(nodeRed, () => `ARG NODE_RED_VERSION=${profile.nodeRed.version}`).replace(ffHa, () => `ARG FF_HA_VERSION=${version}`)
}
