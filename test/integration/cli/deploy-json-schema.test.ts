// `ff-ha deploy --json` against schemas/commands/deploy.json, on real Node-RED 4.1 replicas: a deploy, a dry run
// print a report of the documented shape; a refused deploy (one replica unreachable, exit 1) prints the one error
// shape of every command (error.json), its report (ok false) in error.report.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'
import {probeFlows} from '../../../harness/deploy-flows.js'
import {startReplicas, type TestCluster} from '../../../harness/replicas.js'

let cluster: TestCluster
const dir = mkdtempSync(join(tmpdir(), 'ff-ha-deploy-schema-'))
beforeAll(async () => {
  cluster = await startReplicas(2, {major: 4, prefix: 'schema'})
}, 90_000)
afterAll(async () => {
  await cluster?.stop()
  rmSync(dir, {recursive: true, force: true})
})

const tsx = pathToFileURL(join(packageRoot, 'node_modules/tsx/dist/loader.mjs')).href
const validate = new Ajv({allErrors: true, strict: true}).compile(JSON.parse(readFileSync(join(packageRoot, 'schemas/commands/deploy.json'), 'utf8')))
const validateError = new Ajv({allErrors: true, strict: true}).compile(JSON.parse(readFileSync(join(packageRoot, 'schemas/commands/error.json'), 'utf8')))

async function deployJson(args: string[]) {
  const r = await execa(process.execPath, ['--import', tsx, join(packageRoot, 'bin/dev.js'), 'deploy', ...args, '--json'], {
    cwd: dir,
    reject: false,
    extendEnv: false,
    env: {PATH: process.env.PATH ?? '', HOME: dir, CI: '1', NO_COLOR: '1', FF_HA_ADMIN_TOKEN: cluster.token},
  })
  return {exitCode: r.exitCode, stderr: r.stderr, json: JSON.parse(r.stdout)}
}

describe('deploy --json', () => {
  it('a deploy and a dry run validate against deploy.json, a refused deploy against error.json', async () => {
    const flows = join(dir, 'flows.json')
    writeFileSync(flows, JSON.stringify(probeFlows('schema-json')))
    const targets = cluster.targets().flatMap(t => ['--target', `${t.name}=${t.url}`])

    const done = await deployJson([flows, ...targets])
    expect(done.exitCode, done.stderr).toBe(0)
    expect(done.json.ok).toBe(true)
    expect(validate(done.json), JSON.stringify(validate.errors)).toBe(true)

    const dry = await deployJson([flows, ...targets, '--dry-run'])
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(dry.json.dryRun).toBe(true)
    expect(validate(dry.json), JSON.stringify(validate.errors)).toBe(true)

    // Port 9 (discard) on loopback: nothing listens, so preflight fails and nothing is deployed.
    const refused = await deployJson([flows, ...targets, '--target', 'gone=http://127.0.0.1:9/', '--timeout', '2000'])
    expect(refused.exitCode).toBe(1)
    expect(validateError(refused.json), JSON.stringify(validateError.errors)).toBe(true)
    expect(refused.json.error.exitCode).toBe(1)
    expect(refused.json.error.message).toMatch(/^refused before any change: gone: /)
    expect(refused.json.error.report.ok).toBe(false)
    expect(validate(refused.json.error.report), JSON.stringify(validate.errors)).toBe(true)
  })
})
