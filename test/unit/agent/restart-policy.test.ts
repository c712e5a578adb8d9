import {describe, expect, it} from 'vitest'
import {RestartPolicy, describeExit} from '../../../src/agent/restart-policy.js'

describe('restart policy', () => {
  it('backs off exponentially, declares a crash loop at the 5th failure in a row, once', () => {
    const p = new RestartPolicy({baseDelayMs: 100, maxDelayMs: 1000, crashLoopAfter: 5, stableMs: 10_000})
    const d = [1, 2, 3, 4, 5, 6, 7].map(() => p.failed(50))
    expect(d.map(x => x.delayMs)).toEqual([100, 200, 400, 800, 1000, 1000, 1000])
    expect(d.map(x => x.crashLoop)).toEqual([false, false, false, false, true, true, true])
    expect(d.map(x => x.newlyCrashLooping)).toEqual([false, false, false, false, true, false, false])
    expect(p.crashLooping).toBe(true)
  })

  it('forgets earlier failures after a stable run', () => {
    const p = new RestartPolicy({baseDelayMs: 100, maxDelayMs: 1000, crashLoopAfter: 3, stableMs: 10_000})
    p.failed(10)
    p.failed(10)
    expect(p.failed(60_000)).toMatchObject({consecutive: 1, delayMs: 100, crashLoop: false})
    p.failed(10)
    p.stable()
    expect(p.failed(10)).toMatchObject({consecutive: 1})
  })

  it('says what an exit means', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('was killed (SIGKILL)')
    expect(describeExit(1, null)).toBe('exited with code 1')
    expect(describeExit(127, null)).toMatch(/command not found/)
  })
})
