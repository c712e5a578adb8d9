import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {packageRoot} from '../../paths.js'

/**
 * How to run `ff-ha agent`: the built CLI when dist/ exists, else oclif's dev mode through tsx (during
 * development dist/ is absent). STAND-IN fallback while the agent command has not landed yet.
 */
export function agentCommand(): {command: string; args: string[]} {
  if (existsSync(join(packageRoot, 'dist', 'commands', 'agent.js'))) return {command: process.execPath, args: [join(packageRoot, 'bin', 'run.js'), 'agent']}
  if (existsSync(join(packageRoot, 'src', 'commands', 'agent.ts'))) return {command: process.execPath, args: ['--import', 'tsx', join(packageRoot, 'bin', 'dev.js'), 'agent']}
  return {command: process.execPath, args: ['--import', 'tsx', join(packageRoot, 'src', 'drill', 'topology', 'stand-in-agent.ts')]}
}
