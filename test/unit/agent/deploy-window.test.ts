import {describe, expect, it} from 'vitest'
import {DEPLOY_GRACE_BASE_MS, DEPLOY_GRACE_PER_MB_MS, DEPLOY_HARD_CAP_GRACES, DeployWindow, deployGraceMs} from '../../../src/agent/deploy-window.js'

const MB = 1024 * 1024

function window(events = true): DeployWindow {
  const w = new DeployWindow()
  w.signal({deploy: 'hello', events}, 0)
  return w
}

describe('deploy window: a deploy under way is busy, not hung', () => {
  it('opens at a POST /flows, stays open past its answer and past runtime-deploy, until a check sent after that is answered', () => {
    const w = window()
    expect(w.underWay(0)).toBeNull()
    expect(w.signal({deploy: 'start', id: 1, bytes: 10 * MB, write: true}, 100)).toBe('opened')
    expect(w.underWay(1100)).toEqual({write: true, bytes: 10 * MB, sinceMs: 1000, graceMs: deployGraceMs(10 * MB)})
    expect(w.signal({deploy: 'answered', id: 1, status: 200}, 2700)).toBeNull()
    // The flows start after the answer: 30 s of a blocked event loop is still the deploy.
    expect(w.underWay(32_000)).not.toBeNull()
    expect(w.signal({deploy: 'done'}, 33_000)).toBe('ended')
    // Node-RED works on for a moment after runtime-deploy: a check sent before it proves nothing.
    expect(w.healthy(32_900)).toBeNull()
    expect(w.underWay(33_200)).not.toBeNull()
    expect(w.healthy(33_250)).toBe('closed')
    expect(w.underWay(33_300)).toBeNull()
  })

  it('GET /flows (every node serialised) is busy until its answer; a refused deploy (409, 413) ends at its answer', () => {
    const w = window()
    w.signal({deploy: 'start', id: 1, bytes: 0, write: false}, 0)
    expect(w.underWay(500)).not.toBeNull()
    expect(w.signal({deploy: 'answered', id: 1, status: 200}, 900)).toBe('ended')
    expect(w.healthy(1000)).toBe('closed')
    w.signal({deploy: 'start', id: 2, bytes: 100, write: true}, 2000)
    expect(w.signal({deploy: 'answered', id: 2, status: 413}, 2010)).toBe('ended')
    expect(w.healthy(2020)).toBe('closed')
  })

  it('a read answered during a deploy does not end the deploy', () => {
    const w = window()
    w.signal({deploy: 'start', id: 1, bytes: MB, write: true}, 0)
    w.signal({deploy: 'start', id: 2, bytes: 0, write: false}, 10)
    expect(w.signal({deploy: 'answered', id: 2, status: 200}, 20)).toBeNull()
    expect(w.signal({deploy: 'answered', id: 1, status: 200}, 30)).toBeNull()
    expect(w.healthy(40)).toBeNull()
    expect(w.underWay(50)?.bytes).toBe(MB)
    expect(w.signal({deploy: 'done'}, 60)).toBe('ended')
  })

  it('without runtime-deploy events (another Node-RED layout), a deploy ends at its answer', () => {
    const w = window(false)
    w.signal({deploy: 'start', id: 1, bytes: 100, write: true}, 0)
    expect(w.healthy(5)).toBeNull()
    expect(w.signal({deploy: 'answered', id: 1, status: 200}, 10)).toBe('ended')
    expect(w.healthy(20)).toBe('closed')
  })

  it('the grace runs from the last sign of life and grows with the size; a hard cap ends even a working one', () => {
    expect(deployGraceMs(0)).toBe(DEPLOY_GRACE_BASE_MS)
    expect(deployGraceMs(10 * MB)).toBe(DEPLOY_GRACE_BASE_MS + 10 * DEPLOY_GRACE_PER_MB_MS)
    const grace = deployGraceMs(MB)
    const w = window()
    w.signal({deploy: 'start', id: 1, bytes: MB, write: true}, 0)
    expect(w.underWay(grace)).not.toBeNull()
    // A Node-RED that makes no progress (SIGSTOP, blocked) is hung after all.
    expect(w.underWay(grace + 1)).toBeNull()
    // CPU time that grows is progress: the grace starts again.
    w.alive(grace)
    expect(w.underWay(2 * grace)).not.toBeNull()
    let t = 2 * grace
    while (t < DEPLOY_HARD_CAP_GRACES * grace) {
      w.alive(t)
      t += 1000
    }
    expect(w.underWay(DEPLOY_HARD_CAP_GRACES * grace + 1)).toBeNull()
  })

  it('a new Node-RED process starts with nothing under way', () => {
    const w = window()
    w.signal({deploy: 'start', id: 1, bytes: 1, write: true}, 0)
    w.reset()
    expect(w.underWay(4)).toBeNull()
    expect(w.heard).toBe(false)
  })
})
