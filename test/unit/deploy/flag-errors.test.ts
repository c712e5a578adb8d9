// Every bad deploy flag is an input error (exit 2) with a hint, found before any replica is asked.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {resolveAuth} from '../../../src/deploy/auth.js'
import {runDeploy} from '../../../src/deploy/run.js'
import {InputError} from '../../../src/errors.js'

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).exitCode).toBe(2)
    expect((err as InputError).hint).toBeTruthy()
    return err as InputError
  }
  throw new Error('expected an InputError')
}

describe('deploy: flag errors', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ff-ha-deploy-flags-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('--token-env and --password-env take a variable name, not a value', () => {
    expect(inputError(() => resolveAuth({tokenEnv: 'bad name', env: {}})).message).toBe('--token-env "bad name": not an environment variable name')
    expect(inputError(() => resolveAuth({username: 'u', passwordEnv: 's3cr3t!', env: {}})).message).toBe('--password-env "s3cr3t!": not an environment variable name')
  })

  it('--no-auth sends no credentials, needs no token, and refuses --username', () => {
    expect(resolveAuth({noAuth: true, env: {}})).toEqual({})
    expect(inputError(() => resolveAuth({noAuth: true, username: 'u', env: {}})).message).toMatch(/--no-auth and --username/)
    expect(inputError(() => resolveAuth({env: {}})).hint).toMatch(/--no-auth/)
  })

  it('--ca-file that does not exist: exit 2 before any replica is asked', async () => {
    writeFileSync(join(dir, 'flows.json'), '[{"id": "t", "type": "tab"}]')
    const err = await runDeploy({flowsFile: 'flows.json', cwd: dir, targets: ['http://127.0.0.1:1/'], lint: false, env: {FF_HA_ADMIN_TOKEN: 'abcdef123456'}, client: {caFile: 'nope.pem'}}).then(
      () => undefined,
      e => e,
    )
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe(`--ca-file ${join(dir, 'nope.pem')}: no such file`)
    expect(err.hint).toMatch(/CA certificate/)
  })

  it('--target with another scheme has a hint', async () => {
    writeFileSync(join(dir, 'flows.json'), '[{"id": "t", "type": "tab"}]')
    const err = await runDeploy({flowsFile: 'flows.json', cwd: dir, targets: ['x=ftp://h/'], lint: false, env: {FF_HA_ADMIN_TOKEN: 'abcdef123456'}}).then(() => undefined, e => e)
    expect(err).toBeInstanceOf(InputError)
    expect(err.hint).toMatch(/--target http:/)
  })
})
