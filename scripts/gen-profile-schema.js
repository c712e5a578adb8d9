// Build step: write schemas/ff-ha.schema.json (draft-07) from the zod profile schema, so that editors complete
// and check ff-ha.yaml (`# yaml-language-server: $schema=...`). Reads the built dist/ by default; under
// `node --import tsx` with FF_HA_SCHEMA_FROM=src it reads src/ (the tests do). Optional argument: the output file.
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const from = process.env.FF_HA_SCHEMA_FROM === 'src' ? 'src/profile/json-schema.ts' : 'dist/profile/json-schema.js'
const {profileJsonSchema} = await import(resolve(root, from))
const out = resolve(process.argv[2] ?? resolve(root, 'schemas/ff-ha.schema.json'))
mkdirSync(dirname(out), {recursive: true})
writeFileSync(out, JSON.stringify(profileJsonSchema(), null, 2) + '\n')
