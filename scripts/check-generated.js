// npm run check:generated: exit 1 when a generated file (scripts/generated.js) differs from what the code
// generates now, one line per stale file. The model: sf's schema:compare.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {generatedFiles, orphans, root} from './generated.js'

const files = await generatedFiles()
const stale = [...files].filter(([path, text]) => !existsSync(join(root, path)) || readFileSync(join(root, path), 'utf8') !== text).map(([path]) => path)
const gone = orphans(files)
for (const path of stale) console.error(`error ${path} is not what the code generates; hint: run \`npm run docs\` and commit the result`)
for (const path of gone) console.error(`error ${path} is generated from nothing any more; hint: run \`npm run docs\` (it removes it)`)
if (stale.length + gone.length) process.exitCode = 1
else console.log(`${files.size} generated files are up to date`)
