import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseDocument} from 'yaml'
import {parseProfileText} from '../../profile/load.js'

/** The agents' copy of the profile: a local set (sqlite lease), with the witness when there is one. */
export function agentProfileText(profileText: string, witness?: string): string {
  const doc = parseDocument(profileText)
  doc.set('target', 'compose')
  if (doc.getIn(['failover', 'lease']) === 'kubernetes') doc.deleteIn(['failover', 'lease'])
  if (witness) doc.setIn(['failover', 'witness'], witness)
  return doc.toString()
}

/** Write the agents' profile into dir and check that it still loads (a rewrite must not break it). */
export function writeAgentProfile(dir: string, profileText: string, witness?: string): string {
  const file = join(dir, 'ff-ha.yaml')
  writeFileSync(file, agentProfileText(profileText, witness))
  parseProfileText(readFileSync(file, 'utf8'), file)
  return file
}
