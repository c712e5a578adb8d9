#!/usr/bin/env node
// node bench/failover/deploy-handover.js: runs deploy-handover.ts with tsx (it imports the drill from src/).
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
const result = spawnSync(process.execPath, ['--import', tsx, join(here, 'deploy-handover.ts'), ...process.argv.slice(2)], {stdio: 'inherit', cwd: root})
process.exitCode = result.status ?? 1
