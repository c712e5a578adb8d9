import type {Profile} from '../profile/schema.js'
import {renderComposeFiles} from './compose.js'
import {renderImageContext} from './dockerfile.js'
import {withHeader} from './header.js'
import {renderKubernetesFiles} from './kubernetes.js'
import {RENDERED, cliVersion} from './names.js'
import {renderSettings, settingsValuesFromProfile} from '../model/settings.js'
import {hostNamed, renderHostFiles} from './hosts.js'

export interface RenderInput {
  profile: Profile
  /** The profile file's text, copied into the tree for the agents to read (mounted into every replica). */
  profileText: string
  /** Where the profile came from, for the generated-by header (a file name, not a path: stays deterministic). */
  source?: string
  /** The ff-ha version the replica image installs; default this CLI's. */
  version?: string
  /** With the profile's hosts: render only this host's project, at the top of the tree (`render --host`). */
  host?: string
}

/** Every file of the rendered tree, keyed by its path under --out, sorted, each with the generated-by header. Pure. */
export function renderProject(input: RenderInput): Record<string, string> {
  const {profile} = input
  const version = input.version ?? cliVersion()
  const source = input.source ?? 'ff-ha.yaml'
  if (input.host !== undefined || profile.hosts) return withHeaders(hostFiles(input, version), source)
  const files: Record<string, string> = {
    [RENDERED.settings]: renderSettings(settingsValuesFromProfile(profile)),
    [RENDERED.profile]: input.profileText.endsWith('\n') ? input.profileText : `${input.profileText}\n`,
    ...renderImageContext(profile, version),
    ...(profile.target === 'compose' ? renderComposeFiles(profile, version) : renderKubernetesFiles(profile, version)),
  }
  return withHeaders(files, source)
}

/** Several hosts: one project per host, each in a folder named after it (or only `input.host`, at the top). */
function hostFiles(input: RenderInput, version: string): Record<string, string> {
  const {profile} = input
  if (input.host !== undefined) return renderHostFiles(profile, hostNamed(profile, input.host), input.profileText, version)
  const files: Record<string, string> = {}
  for (const host of profile.hosts ?? []) {
    for (const [path, text] of Object.entries(renderHostFiles(profile, host, input.profileText, version))) files[`${host.name}/${path}`] = text
  }
  return files
}

function withHeaders(files: Record<string, string>, source: string): Record<string, string> {
  const sorted: Record<string, string> = {}
  for (const path of Object.keys(files).sort()) sorted[path] = withHeader(path, files[path], source)
  return sorted
}
