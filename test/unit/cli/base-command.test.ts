import {Errors} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import {describeError} from '../../../src/base-command.js'
import {BugError, CheckFailedError, InputError, RemoteError, TimeoutError} from '../../../src/errors.js'
import {colourEnabled} from '../../../src/output/colour.js'
import {redact, registerSecret} from '../../../src/output/secrets.js'

const tty = {isTTY: true} as NodeJS.WriteStream
const pipe = {isTTY: false} as NodeJS.WriteStream

describe('describeError maps typed errors to one exit code each', () => {
  it.each([
    [new InputError('ff-ha.yaml:3:1 mode: bad'), 2],
    [new CheckFailedError('2 files drift'), 1],
    [new RemoteError('r1: cannot reach', {replica: 'r1'}), 1],
    [new Errors.CLIError('Nonexistent flag: --nope'), 2],
    [new TimeoutError('r1: no answer within 100 ms', 100, {replica: 'r1'}), 1],
    [new BugError('a template lost its marker'), 1],
  ])('%s -> exit %i', (err, code) => {
    expect(describeError(err).code).toBe(code)
  })

  it('calls an unexpected error internal, with a hint instead of a stack', () => {
    const d = describeError(new TypeError('x is undefined'))
    expect(d).toMatchObject({code: 1, message: 'internal error, please report it: x is undefined', internal: true})
    expect(d.hint).toContain('FF_HA_DEBUG=1')
    expect(describeError(new BugError('a template lost its marker'))).toMatchObject({code: 1, message: 'internal error, please report it: a template lost its marker', internal: true})
  })

  it('never lets a registered secret through', () => {
    registerSecret('s3cr3t-token-value')
    expect(describeError(new InputError('bad token s3cr3t-token-value')).message).toBe('bad token ***')
    expect(redact('a s3cr3t-token-value b')).toBe('a *** b')
  })
})

describe('colourEnabled', () => {
  it('is on for a TTY with a plain environment', () => {
    expect(colourEnabled(tty, {})).toBe(true)
  })
  it.each([
    ['NO_COLOR', {NO_COLOR: '1'}],
    ['CI', {CI: 'true'}],
    ['FORCE_COLOR=0', {FORCE_COLOR: '0'}],
  ])('is off with %s', (_name, env) => {
    expect(colourEnabled(tty, env)).toBe(false)
  })
  it('is off when piped', () => {
    expect(colourEnabled(pipe, {})).toBe(false)
  })
})
