import {describe, expect, it} from 'vitest'
import {DEPLOY_MS_PER_MB, sizedTimeouts} from '../../../src/deploy/deploy.js'
import {bigFlows} from '../../../harness/big-flows.js'

describe('deploy bounds grow with the flows', () => {
  it('small flows keep the given bounds; large ones get at least 30 s per MB to answer and to start', () => {
    expect(sizedTimeouts({flows: [{id: 't', type: 'tab'}]})).toEqual({requestMs: 15_000, verifyMs: 30_000})
    expect(sizedTimeouts({flows: [{id: 't', type: 'tab'}], clientOptions: {requestTimeoutMs: 500}, verifyTimeoutMs: 700})).toEqual({requestMs: 500, verifyMs: 700})
    const five = sizedTimeouts({flows: bigFlows(5 * 1024 * 1024)})
    expect(five.requestMs).toBeGreaterThanOrEqual(5 * DEPLOY_MS_PER_MB)
    expect(five.verifyMs).toBe(five.requestMs)
    expect(five.requestMs).toBeLessThan(5.01 * DEPLOY_MS_PER_MB)
  })
})
