import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {templatesDir} from '../paths.js'
import type {Profile} from '../profile/schema.js'
import {RENDERED} from './names.js'
import {BugError} from '../errors.js'

/** The file name `npm pack` gives ff-ha at this version (what render puts under ff-ha/ in the build context). */
export function packageTarball(version: string): string {
  return `ff-ha-${version}.tgz`
}

/** What the Dockerfile installs as ff-ha: the packed tarball from the build context, or the registry's version. */
export function ffHaPackageSpec(profile: Profile, version: string): string {
  return profile.nodeRed.ffHaSource === 'registry' ? `ff-ha@${version}` : `/tmp/ff-ha/${packageTarball(version)}`
}

/** The replica image's Dockerfile: the template with its ARG defaults set to the profile's and the CLI's versions. */
export function renderDockerfile(profile: Profile, version: string): string {
  const template = readFileSync(join(templatesDir, 'compose', 'Dockerfile'), 'utf8')
  const nodeRed = /^ARG NODE_RED_VERSION=.*$/m
  const ffHa = /^ARG FF_HA_PACKAGE=.*$/m
  if (!nodeRed.test(template) || !ffHa.test(template)) throw new BugError('templates/compose/Dockerfile lost an ARG line')
  return template
    .replace(nodeRed, () => `ARG NODE_RED_VERSION=${profile.nodeRed.version}`)
    .replace(ffHa, () => `ARG FF_HA_PACKAGE=${ffHaPackageSpec(profile, version)}`)
}

/**
 * The rest of the image's build context that render writes: a .dockerignore that sends only the Dockerfile
 * and ff-ha/ to the builder (never .env, which holds the secrets), and ff-ha/README (the directory the
 * Dockerfile copies must exist even when the image installs from the registry). The tarball itself is
 * written by render beside it (packReplicaPackage), not here: this stays pure.
 */
export function renderImageContext(profile: Profile, version: string): Record<string, string> {
  const what =
    profile.nodeRed.ffHaSource === 'registry'
      ? `The replica image installs ff-ha@${version} from the npm registry (profile: nodeRed.ffHaSource: registry).\n`
      : `The replica image installs ${packageTarball(version)} from this directory: the package that ff-ha render\n# packed from the ff-ha that rendered it (npm pack). Nothing is fetched under the name ff-ha from a registry.\n`
  return {
    [RENDERED.dockerfile]: renderDockerfile(profile, version),
    '.dockerignore': '*\n!Dockerfile\n!ff-ha/\n',
    'ff-ha/README': `# ${what}`,
  }
}
