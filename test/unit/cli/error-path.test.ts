// The one error path: every command's failure goes through BaseCommand.catch, which prints one --json shape
// (schemas/commands/error.json) and one exit code. A failed deploy is a typed error carrying its report; our own
// faults (BugError, or anything untyped) say "internal error, please report it" with the version to report.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Config} from '@oclif/core/config'
import {Ajv} from 'ajv'
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {BaseCommand, describeError, type CommandResult} from '../../../src/base-command.js'
import {DeployFailedError} from '../../../src/deploy/run.js'
import type {DeployReport} from '../../../src/deploy/types.js'
import {BugError, MissingToolError, TimeoutError} from '../../../src/errors.js'
import {packageRoot} from '../../../src/paths.js'

const ajv = new Ajv({allErrors: true, strict: true})
const errorSchema = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'schemas/commands/error.json'), 'utf8')))
const deploySchema = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'schemas/commands/deploy.json'), 'utf8')))

const failed: DeployReport = {
  rev: 'a'.repeat(64),
  replicas: [{name: 'nr-1', url: 'http://127.0.0.1:9/', before: {rev: null, state: null}, after: {rev: null, state: null}, status: 'failed', durationMs: 3, error: 'nr-1: GET /flows: connection refused'}],
  durationMs: 5,
  ok: false,
  error: 'nr-1: GET /flows: connection refused',
  hint: 'check that the replica runs and that the URL and port are right',
  mode: 'hot-spare',
  strategy: 'parallel',
  dryRun: false,
}

class Failing extends BaseCommand {
  static thrown: Error = new TypeError('set by the test')
  protected async execute(): Promise<CommandResult> {
    await this.parse(Failing)
    throw Failing.thrown
  }
}

let config: Config
beforeAll(async () => {
  config = await Config.load(packageRoot)
})

async function run(err: Error, argv: string[]): Promise<{stdout: string; stderr: string; exitCode: unknown}> {
  Failing.thrown = err
  let stdout = ''
  let stderr = ''
  vi.spyOn(process.stdout, 'write').mockImplementation(chunk => ((stdout += String(chunk)), true))
  vi.spyOn(process.stderr, 'write').mockImplementation(chunk => ((stderr += String(chunk)), true))
  const before = process.exitCode
  const noColor = process.env.NO_COLOR
  process.env.NO_COLOR = '1'
  try {
    await Failing.run(argv, config)
    return {stdout, stderr, exitCode: process.exitCode}
  } finally {
    vi.restoreAllMocks()
    process.exitCode = before
    if (noColor === undefined) delete process.env.NO_COLOR
    else process.env.NO_COLOR = noColor
  }
}

afterEach(() => vi.restoreAllMocks())

describe('a failed deploy is a typed error carrying its report', () => {
  it('--json: the one error shape, the deploy report in error.report, exit 1', async () => {
    const r = await run(new DeployFailedError(failed), ['--json'])
    expect(r.exitCode).toBe(1)
    const json = JSON.parse(r.stdout)
    expect(errorSchema(json), JSON.stringify(errorSchema.errors)).toBe(true)
    expect(json.error).toMatchObject({message: failed.error, exitCode: 1, hint: failed.hint, report: {ok: false, replicas: [{name: 'nr-1', status: 'failed'}]}})
    expect(deploySchema(json.error.report), JSON.stringify(deploySchema.errors)).toBe(true)
  })

  it('without --json: the report table on stdout, the error and its hint on stderr, exit 1', async () => {
    const r = await run(new DeployFailedError(failed), [])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toMatch(/^REPLICA\s+ROLE/)
    expect(r.stdout).toContain('FAILED: nr-1: GET /flows: connection refused')
    expect(r.stderr).toBe(`error ${failed.error}\nhint  ${failed.hint}\n`)
  })
})

describe('every other failure prints the same shape', () => {
  it.each([
    ['a timeout', new TimeoutError('127.0.0.1:1880 did not accept connections within 100 ms', 100, {hint: 'see its log'}), /^127\.0\.0\.1:1880 did not/],
    ['a missing tool', new MissingToolError('node-red', 'Node-RED 5 is not installed in runtimes/node-red-5', 'npm ci installs it'), /^Node-RED 5 is not installed/],
    ['our own fault', new BugError('templates/haproxy/haproxy.cfg lost its marker'), /^internal error, please report it: templates\/haproxy/],
    ['an untyped error', new TypeError('x is undefined'), /^internal error, please report it: x is undefined$/],
  ])('%s: exit 1, the error shape, a hint, no stack', async (_name, err, message) => {
    const r = await run(err, ['--json'])
    expect(r.exitCode).toBe(1)
    const json = JSON.parse(r.stdout)
    expect(errorSchema(json), JSON.stringify(errorSchema.errors)).toBe(true)
    expect(json.error.message).toMatch(message)
    expect(json.error.hint).toBeTruthy()
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('our own fault names the build to report', async () => {
    const r = await run(new BugError('broken invariant'), [])
    expect(r.stderr).toMatch(/^error internal error, please report it: broken invariant\nhint {2}.*please report it.*\(ff-ha \d+\.\d+\.\d+, Node v\d+/)
  })

  it('a missing tool is never called internal', () => {
    expect(describeError(new MissingToolError('node', 'the Node 22 binary is missing', 'run node scripts/install-runtimes.js')).message).not.toMatch(/internal/)
  })
})
