import {describe, expect, it} from 'vitest'
import {sharedContextWrites} from '../../../src/drill/metrics.js'
import {probeFlows, PROBE_WRITES_PATH} from '../../../src/drill/probe.js'
import {writesBetween} from '../../../src/drill/shared-context.js'

// The drill's proof of the shared context's fence: the probe's writer, and the figures from its log.
describe('the drill probe with a shared context store', () => {
  it('adds the fenced writer and its read-out only when asked', () => {
    const without = probeFlows({mode: 'hot-spare', runId: 'r', shareGroup: 'g'})
    expect(without.some(n => n.id.startsWith('ff_ha_probe_ctx_'))).toBe(false)
    const flows = probeFlows({mode: 'hot-spare', runId: 'r', shareGroup: 'g', sharedContext: true})
    const writer = flows.find(n => n.id === 'ff_ha_probe_ctx_write')!
    expect(writer.func).toContain("flow.get('$atomic', 'shared').append('ff_ha_probe_writes'")
    expect(flows.find(n => n.id === 'ff_ha_probe_ctx_in')).toMatchObject({url: PROBE_WRITES_PATH, method: 'get'})
    expect(flows.find(n => n.id === 'ff_ha_probe_ctx_tick')).toMatchObject({type: 'inject', repeat: '0.2'})
  })

  it('counts the faulted replica\'s writes after the new active\'s first as stale, and the refusals of the iteration', () => {
    expect(sharedContextWrites({log: ['a', 'a', 'b', 'b'], refused: 2}, 'a')).toEqual({writes: 4, staleWrites: 0, refused: 2})
    expect(sharedContextWrites({log: ['a', 'b', 'a', 'b', 'a'], refused: 0}, 'a')).toEqual({writes: 5, staleWrites: 2, refused: 0})
    expect(sharedContextWrites({log: ['a', 'a'], refused: 0}, 'a')).toEqual({writes: 2, staleWrites: 0, refused: 0})
    expect(writesBetween({log: ['x', 'a'], refused: 1}, {log: ['x', 'a', 'a', 'b'], refused: 4})).toEqual({log: ['a', 'b'], refused: 3})
    expect(writesBetween(undefined, {log: [], refused: 0})).toBeUndefined()
  })
})
