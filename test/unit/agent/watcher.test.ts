import {describe, expect, it} from 'vitest'
import {FlowsWatcher, type FlowsSample} from '../../../harness/agents.js'

// The dual-active arithmetic of the test watcher, on samples written by hand.
function watcherWith(samples: Omit<FlowsSample, 'running'>[]): FlowsWatcher {
  const w = new FlowsWatcher([])
  for (const s of samples) w.samples.push({...s, running: s.state === 'start'})
  return w
}

// One replica answering every 20 ms (1 ms latency) from..to with one state.
function run(replica: string, from: number, to: number, state: 'start' | 'stop' | null): Omit<FlowsSample, 'running'>[] {
  const out = []
  for (let t = from; t < to; t += 20) out.push({replica, sent: t, at: t + 1, state})
  return out
}

describe('FlowsWatcher.dualActive', () => {
  it('finds two replicas that both answer "start" for 200 ms', () => {
    const w = watcherWith([...run('a', 0, 400, 'start'), ...run('b', 0, 200, 'stop'), ...run('b', 200, 400, 'start')])
    expect(w.dualActiveMs()).toBeGreaterThan(180)
  })

  it('does not count a handover: a stops, then b starts', () => {
    const w = watcherWith([...run('a', 0, 200, 'start'), ...run('a', 200, 400, 'stop'), ...run('b', 0, 210, 'stop'), ...run('b', 210, 400, 'start')])
    expect(w.dualActive()).toEqual([])
  })

  it('does not stretch a last "start" over a request that is still waiting (a replica shutting down)', () => {
    // a answered start at 101, its next request (sent 120) only failed at 160; b started at 130.
    const w = watcherWith([...run('a', 0, 120, 'start'), {replica: 'a', sent: 120, at: 160, state: null}, ...run('b', 0, 130, 'stop'), ...run('b', 130, 300, 'start')])
    expect(w.dualActive()).toEqual([])
  })

  it('ignores samples marked as not running (the boot-time misreport)', () => {
    const w = new FlowsWatcher([])
    for (const s of run('a', 0, 200, 'start')) w.samples.push({...s, running: true})
    for (const s of run('b', 0, 60, 'start')) w.samples.push({...s, running: false})
    expect(w.dualActive()).toEqual([])
    expect(w.dualActiveMs(-Infinity, true)).toBeGreaterThan(0) // raw /flows/state did say start
  })
})
