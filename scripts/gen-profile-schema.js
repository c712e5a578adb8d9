// Build step: write schemas/ff-ha.schema.json (draft-07) from the zod profile schema in dist/, so that
// editors complete and check ff-ha.yaml (`# yaml-language-server: $schema=...`).
import {writeFileSync, mkdirSync} from 'node:fs'
import {z} from 'zod'
import {profileSchema} from '../dist/profile/schema.js'

const schema = z.toJSONSchema(profileSchema, {target: 'draft-7', io: 'input', unrepresentable: 'any'})
schema.$id = 'https://unpkg.com/ff-ha/schemas/ff-ha.schema.json'
schema.title = 'ff-ha HA profile (ff-ha.yaml)'
mkdirSync(new URL('../schemas/', import.meta.url), {recursive: true})
writeFileSync(new URL('../schemas/ff-ha.schema.json', import.meta.url), JSON.stringify(schema, null, 2) + '\n')
