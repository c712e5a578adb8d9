import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {parseProfileText} from '../../src/profile/load.js'
import type {Profile} from '../../src/profile/schema.js'
import {renderProject} from '../../src/render/project.js'

// Golden cases: each directory holds ff-ha.yaml (the input) and out/ (the files render must write, byte for byte).
export const GOLDEN_DIR = new URL('.', import.meta.url).pathname
/** Fixed, so that a release does not rewrite every golden file. */
export const GOLDEN_VERSION = '0.1.0'

export interface GoldenCase {
  name: string
  dir: string
  profile: Profile
  files: Record<string, string>
}

export function goldenCases(): GoldenCase[] {
  return readdirSync(GOLDEN_DIR)
    .filter(n => statSync(join(GOLDEN_DIR, n)).isDirectory())
    .sort()
    .map(name => {
      const dir = join(GOLDEN_DIR, name)
      const text = readFileSync(join(dir, 'ff-ha.yaml'), 'utf8')
      const profile = parseProfileText(text, join(dir, 'ff-ha.yaml'))
      return {name, dir, profile, files: renderProject({profile, profileText: text, version: GOLDEN_VERSION})}
    })
}
