// npm run docs: write every generated file (see scripts/generated.js) from the code.
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {generatedFiles, orphans, root} from './generated.js'

const files = await generatedFiles()
for (const [path, text] of files) {
  mkdirSync(dirname(join(root, path)), {recursive: true})
  writeFileSync(join(root, path), text)
}
for (const path of orphans(files)) rmSync(join(root, path))
console.log(`wrote ${files.size} generated files`)
