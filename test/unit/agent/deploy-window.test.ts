import {describe, expect, it} from 'vitest'
import {DEPLOY_GRACE_BASE_MS, DeployWindow, deployGraceMs} from '../../../src/agent/deploy-window.js'

const MB = 1024 * 1024

describe('deploy window: a deploy under way is busy, not hung', () => {
  it('opens at a POST /flows, stays open past its answer until Node-RED says the flows run (runtime-deploy)', () => {
    const w = new DeployWindow()
    expect(w.signal({deploy: 'hello', events: true}, 0)).toBeNull()
    expect(w.underWay(0)).toBeNull()
    expect(w.signal({deploy: 'start', bytes: 10 * MB}, 100)).toBe('opened')
    expect(w.underWay(1100)).toEqual({bytes: 10 * MB, sinceMs: 1000, graceMs: deployGraceMs(10 * MB)})
    expect(w.signal({deploy: 'answered', status: 200}, 2700)).toBeNull()
    // The flows start after the answer: 30 s of a blocked event loop is still the deploy.
    expect(w.underWay(32_000)).not.toBeNull()
    expect(w.signal({deploy: 'done'}, 33_000)).toBe('closed')
    expect(w.underWay(33_001)).toBeNull()
  })

  it('a refused deploy (409, 413) ends at its answer', () => {
    const w = new DeployWindow()
    w.signal({deploy: 'hello', events: true}, 0)
    w.signal({deploy: 'start', bytes: 100}, 0)
    expect(w.signal({deploy: 'answered', status: 413}, 10)).toBe('closed')
  })

  it('without runtime-deploy events (another Node-RED layout), a deploy ends at its answer', () => {
    const w = new DeployWindow()
    w.signal({deploy: 'hello', events: false}, 0)
    w.signal({deploy: 'start', bytes: 100}, 0)
    expect(w.signal({deploy: 'answered', status: 200}, 10)).toBe('closed')
  })

  it('the grace is bounded and grows with the size: a Node-RED that hangs in a deploy is still a hang', () => {
    expect(deployGraceMs(0)).toBe(DEPLOY_GRACE_BASE_MS)
    expect(deployGraceMs(10 * MB)).toBe(DEPLOY_GRACE_BASE_MS + 100_000)
    const w = new DeployWindow()
    w.signal({deploy: 'hello', events: true}, 0)
    w.signal({deploy: 'start', bytes: 1 * MB}, 0)
    expect(w.underWay(deployGraceMs(MB))).not.toBeNull()
    expect(w.underWay(deployGraceMs(MB) + 1)).toBeNull()
  })

  it('two deploys at once: open until both are done; a new Node-RED process starts with none', () => {
    const w = new DeployWindow()
    w.signal({deploy: 'hello', events: true}, 0)
    w.signal({deploy: 'start', bytes: 1}, 0)
    w.signal({deploy: 'start', bytes: 5 * MB}, 1)
    expect(w.signal({deploy: 'done'}, 2)).toBeNull()
    expect(w.underWay(3)?.bytes).toBe(5 * MB)
    w.reset()
    expect(w.underWay(4)).toBeNull()
  })
})
