import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {packageRoot} from '../../../src/paths.js'
import {profileJsonSchema} from '../../../src/profile/json-schema.js'
import {profileYaml} from '../../../src/profile/template.js'
import {goldenCases} from '../../golden/cases.js'

// The profile's JSON Schema as an editor uses it: draft-07 (Ajv's default), strict mode, standard formats.
const ajv = new Ajv({strict: true, allErrors: true})
addFormats.default(ajv)
const schema = profileJsonSchema()
const validate = ajv.compile(schema)
const tmp = mkdtempSync(join(tmpdir(), 'ff-ha-schema-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('the profile JSON Schema', () => {
  it('is draft-07 with an $id and compiles in strict mode', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
    expect(schema.$id).toMatch(/ff-ha\.schema\.json$/)
  })

  it('accepts every golden profile and what init writes', () => {
    for (const c of goldenCases()) expect(validate(parse(readFileSync(join(c.dir, 'ff-ha.yaml'), 'utf8'))), `${c.name} ${JSON.stringify(validate.errors)}`).toBe(true)
    for (const target of ['compose', 'kubernetes'] as const) {
      const text = profileYaml({name: 'app', target, mode: 'load-balanced', replicas: 3, flows: 'flows.json', broker: target === 'compose' ? 'bundled' : 'mqtt://b:1883'}, '0.1.0')
      expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true)
    }
  })

  it('rejects unknown keys, wrong types and bad values, as the loader does', () => {
    expect(validate({name: 'app', replica: 3})).toBe(false)
    expect(validate({name: 'app', http: {stiky: true}})).toBe(false)
    expect(validate({name: 'app', replicas: 'two'})).toBe(false)
    expect(validate({name: 'app', replicas: 1})).toBe(false)
    expect(validate({name: 'Bad_Name'})).toBe(false)
    expect(validate({name: 'app', nodeRed: {adminRoot: 'admin'}})).toBe(false)
    expect(validate({mode: 'hot-spare'})).toBe(false)
  })

  it('the script writes the same schema, and the copy in schemas/ is up to date', async () => {
    const out = join(tmp, 'schema.json')
    await execa('node', ['--import', 'tsx', 'scripts/gen-profile-schema.js', out], {cwd: packageRoot, env: {FF_HA_SCHEMA_FROM: 'src'}})
    const written = readFileSync(out, 'utf8')
    expect(JSON.parse(written)).toEqual(schema)
    // `npm run build` regenerates schemas/ff-ha.schema.json; this keeps the checked-in copy honest.
    expect(readFileSync(join(packageRoot, 'schemas', 'ff-ha.schema.json'), 'utf8')).toBe(written)
  })
})
