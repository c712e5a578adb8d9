#!/usr/bin/env node
// npm run bench:singleton [-- --rounds 5]
// Runs bench.ts through tsx, so that it can use the agent test helper on src/.
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const node = process.execPath
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
const r = spawnSync(node, ['--import', tsx, join(here, 'bench.ts'), ...process.argv.slice(2)], {stdio: 'inherit', cwd: root})
process.exitCode = r.status ?? 1
