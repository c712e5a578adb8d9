import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {packageRoot} from '../../paths.js'

/** How to run `ff-ha agent`: the built CLI when dist/ has it, else oclif's dev mode through tsx (dist/ is absent during development). */
export function agentCommand(): {command: string; args: string[]} {
  const node = process.execPath
  if (existsSync(join(packageRoot, 'dist', 'commands', 'agent.js'))) return {command: node, args: [join(packageRoot, 'bin', 'run.js'), 'agent']}
  // tsx by absolute URL, so that it resolves whatever the cwd
  return {command: node, args: ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(packageRoot, 'bin', 'dev.js'), 'agent']}
}
