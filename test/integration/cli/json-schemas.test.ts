// The --json contract: what real commands print validates against schemas/commands/*.json (generated from the
// types by scripts/gen-command-schemas.js; `npm run check:generated` keeps the committed files current).
// Run here: lint flows (report, --fix, error), render, init. deploy: deploy-json-schema.test.ts (real replicas);
// failover-test: test/unit/cli/json-schemas.test.ts (a drill report from the drill's functions). Not run: agent
// (its --json is printed once it stops; a two-field shape from the same generator).
import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {repoRoot} from '../../fixtures/flows/corpus.js'

const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href
const dir = mkdtempSync(join(tmpdir(), 'ff-ha-json-schemas-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const ajv = new Ajv({allErrors: true, strict: true})
const schema = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'schemas/commands', `${name}.json`), 'utf8'))

function ffha(args: string[], cwd = repoRoot) {
  return execa(process.execPath, ['--import', tsx, join(repoRoot, 'bin/dev.js'), ...args], {cwd, reject: false, env: {NO_COLOR: '1', FF_HA_DEBUG: ''}})
}

function expectValid(name: string, value: unknown) {
  const validate = ajv.compile(schema(name))
  expect(validate(value), `${name}.json: ${ajv.errorsText(validate.errors)}`).toBe(true)
}

describe('--json output validates against schemas/commands', () => {
  it('lint flows: a report with findings, a --fix --dry-run report with fixes, and the error shape', async () => {
    const report = await ffha(['lint', 'flows', 'examples/flows.json', '--json'])
    expect(report.exitCode).toBe(1)
    const json = JSON.parse(report.stdout)
    expect(json.files[0].findings.length).toBeGreaterThan(0)
    expectValid('lint-flows', json)

    const copy = join(dir, 'flows.json')
    copyFileSync(join(repoRoot, 'examples/flows.json'), copy)
    const fixed = await ffha(['lint', 'flows', copy, '--json', '--fix', '--dry-run', '--share-group', 'g'])
    const fixedJson = JSON.parse(fixed.stdout)
    expect(fixedJson.fixes.length).toBeGreaterThan(0)
    expectValid('lint-flows', fixedJson)

    const missing = await ffha(['lint', 'flows', join(dir, 'nope.json'), '--json'])
    expect(missing.exitCode).toBe(2)
    expectValid('error', JSON.parse(missing.stdout))
  })

  it('init and render: what they wrote, file by file', async () => {
    const cwd = mkdtempSync(join(dir, 'project-'))
    const init = await ffha(['init', '--yes', '--json', '--target', 'compose', '--name', 'orders'], cwd)
    expect(init.exitCode, init.stderr).toBe(0)
    expectValid('init', JSON.parse(init.stdout))
    const render = await ffha(['render', '--json', '--check'], cwd)
    expect(render.exitCode, render.stderr).toBe(0)
    expectValid('render', JSON.parse(render.stdout))
  })

  it('the schemas are closed: a field the type does not have is refused', () => {
    const validate = ajv.compile(schema('error'))
    expect(validate({error: {message: 'x', exitCode: 2}})).toBe(true)
    expect(validate({error: {message: 'x', exitCode: 2, stack: 'at ...'}})).toBe(false)
    expect(validate({error: {message: 'x', exitCode: 3}})).toBe(false)
  })
})

// Every command (each has --json, from the base command) has a schema, and every schema a command or the error shape.
it('one schema per command, shipped in the package', () => {
  const commands = (readdirSync(join(repoRoot, 'src/commands'), {recursive: true}) as string[])
    .filter(f => f.endsWith('.ts'))
    .map(f => f.slice(0, -3).replaceAll('/', '-'))
  const schemas = readdirSync(join(repoRoot, 'schemas/commands')).map(f => f.replace(/\.json$/, ''))
  expect(schemas.sort()).toEqual([...commands, 'error'].sort())
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
  expect(pkg.files).toContain('schemas/commands')
})
