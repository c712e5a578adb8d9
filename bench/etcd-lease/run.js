#!/usr/bin/env node
// npm run bench:etcd-lease [-- --runs 5 --rounds 500 --out FILE.json]
// Runs bench.ts through tsx, so that it can use the etcd and agent harnesses on src/.
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const node = process.execPath
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
const r = spawnSync(node, ['--import', tsx, join(here, 'bench.ts'), ...process.argv.slice(2)], {stdio: 'inherit', cwd: root})
process.exitCode = r.status ?? 1
