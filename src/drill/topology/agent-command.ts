import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {packageRoot} from '../../paths.js'

/** How to run `ff-ha agent`: the built CLI when dist/ has it, else oclif's dev mode through tsx (dist/ is absent during development). */
export function agentCommand(): {command: string; args: string[]} {
  if (existsSync(join(packageRoot, 'dist', 'commands', 'agent.js'))) return {command: process.execPath, args: [join(packageRoot, 'bin', 'run.js'), 'agent']}
  return {command: process.execPath, args: ['--import', 'tsx', join(packageRoot, 'bin', 'dev.js'), 'agent']}
}
