import {describe, expect, it} from 'vitest'
import {RemoteError} from '../../../src/errors.js'
import {PollTimeoutError, pollUntil} from '../../../src/io/poll.js'

describe('pollUntil', () => {
  it('returns the first value that is not undefined or false, after as many checks as it takes', async () => {
    let calls = 0
    await expect(pollUntil(() => (++calls >= 3 ? `ready after ${calls}` : undefined), {timeoutMs: 5000, intervalMs: 1, what: 'x'})).resolves.toBe('ready after 3')
    expect(calls).toBe(3)
  })

  it('gives up with a typed error naming what it waited for, its timeout and the detail', async () => {
    const err = await pollUntil(() => false, {timeoutMs: 30, intervalMs: 5, what: 'node-red-1 ready', detail: () => 'last: starting', replica: 'node-red-1'}).catch(e => e)
    expect(err).toBeInstanceOf(PollTimeoutError)
    expect(err).toBeInstanceOf(RemoteError)
    expect(err.message).toBe('node-red-1 ready: not within 30 ms (last: starting)')
    expect(err.waitedFor).toBe('node-red-1 ready')
    expect(err.replica).toBe('node-red-1')
    expect(err.exitCode).toBe(1)
  })

  it('checks at least once with a timeout of 0, and lets an error thrown by the check through at once', async () => {
    await expect(pollUntil(() => 1, {timeoutMs: 0, what: 'x'})).resolves.toBe(1)
    const gone = new RemoteError('the agent exited')
    await expect(pollUntil(() => Promise.reject(gone), {timeoutMs: 60_000, what: 'x'})).rejects.toBe(gone)
  })
})
