import type {Profile} from '../profile/schema.js'
import {renderComposeFiles} from './compose.js'
import {renderImageContext} from './dockerfile.js'
import {withHeader} from './header.js'
import {renderKubernetesFiles} from './kubernetes.js'
import {RENDERED, cliVersion} from './names.js'
import {renderSettings, settingsValuesFromProfile} from '../model/settings.js'

export interface RenderInput {
  profile: Profile
  /** The profile file's text, copied into the tree for the agents to read (mounted into every replica). */
  profileText: string
  /** Where the profile came from, for the generated-by header (a file name, not a path: stays deterministic). */
  source?: string
  /** The ff-ha version the replica image installs; default this CLI's. */
  version?: string
}

/** Every file of the rendered tree, keyed by its path under --out, sorted, each with the generated-by header. Pure. */
export function renderProject(input: RenderInput): Record<string, string> {
  const {profile} = input
  const version = input.version ?? cliVersion()
  const source = input.source ?? 'ff-ha.yaml'
  const files: Record<string, string> = {
    [RENDERED.settings]: renderSettings(settingsValuesFromProfile(profile)),
    [RENDERED.profile]: input.profileText.endsWith('\n') ? input.profileText : `${input.profileText}\n`,
    ...renderImageContext(profile, version),
    ...(profile.target === 'compose' ? renderComposeFiles(profile, version) : renderKubernetesFiles(profile, version)),
  }
  const sorted: Record<string, string> = {}
  for (const path of Object.keys(files).sort()) sorted[path] = withHeader(path, files[path], source)
  return sorted
}
