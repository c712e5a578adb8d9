#!/usr/bin/env node
// npm run bench:failover: runs bench.ts with tsx (it imports the drill from src/ directly), on the Node
// that built better-sqlite3 (the agents' lease), not node_modules/.bin's Node 22.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {delimiter, dirname, join, sep} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
const node = (process.env.PATH ?? '').split(delimiter).filter(d => d && !d.includes(`node_modules${sep}.bin`)).map(d => join(d, 'node')).find(existsSync) ?? process.execPath
const result = spawnSync(node, ['--import', tsx, join(here, 'bench.ts'), ...process.argv.slice(2)], {stdio: 'inherit', cwd: root})
process.exitCode = result.status ?? 1
