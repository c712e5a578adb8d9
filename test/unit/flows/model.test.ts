import {describe, expect, it} from 'vitest'
import {buildModel} from '../../../src/flows/model.js'
import {parseFlowsText} from '../../../src/flows/parse.js'

const model = (nodes: object[]) => buildModel(parseFlowsText(JSON.stringify(nodes), 't.json'))
const ids = (m: ReturnType<typeof model>, list: Int32Array) => [...list].map(i => m.nodes[i].id).sort()

describe('buildModel', () => {
  it('indexes by id and type, finds parents, and tells config nodes by their missing x/y', () => {
    const m = model([
      {id: 't1', type: 'tab', label: 'Home'},
      {id: 'b', type: 'mqtt-broker', broker: 'localhost'},
      {id: 'i', type: 'mqtt in', z: 't1', x: 1, y: 2, broker: 'b', wires: [['f']]},
      {id: 'f', type: 'function', z: 't1', x: 3, y: 4, wires: [[]]},
    ])
    expect(m.indexOf.get('f')).toBe(3)
    expect(m.byType.get('mqtt in')).toEqual([2])
    expect(m.parent[2]).toBe(0)
    expect(m.parent[1]).toBe(-1)
    expect(m.isConfig(1)).toBe(true)
    expect(m.isConfig(2)).toBe(false)
    expect(m.isConfig(0)).toBe(false)
    expect(m.labelOf(0)).toBe('Home')
    expect(ids(m, m.next.of(2))).toEqual(['f'])
    expect(ids(m, m.prev.of(3))).toEqual(['i'])
  })

  it('joins link out to link in (either side may list the other) and link call to link in', () => {
    const m = model([
      {id: 'lo', type: 'link out', links: ['li'], x: 0, y: 0},
      {id: 'lo2', type: 'link out', links: [], x: 0, y: 0},
      {id: 'li', type: 'link in', links: ['lo', 'lo2'], x: 0, y: 0, wires: [['d']]},
      {id: 'lc', type: 'link call', links: ['li'], x: 0, y: 0, wires: [[]]},
      {id: 'd', type: 'debug', x: 0, y: 0},
    ])
    expect(ids(m, m.prev.of(2))).toEqual(['lc', 'lo', 'lo2'])
  })

  it('routes through subflow ports: instance -> inner nodes -> what the instance is wired to', () => {
    const m = model([
      {id: 'sf', type: 'subflow', name: 'S', in: [{wires: [{id: 'in1'}]}], out: [{wires: [{id: 'in1', port: 0}]}]},
      {id: 'in1', type: 'rbe', z: 'sf', x: 0, y: 0, wires: [[]]},
      {id: 'h', type: 'http in', x: 0, y: 0, wires: [['inst']]},
      {id: 'inst', type: 'subflow:sf', x: 0, y: 0, wires: [['after']]},
      {id: 'after', type: 'debug', x: 0, y: 0},
    ])
    expect(ids(m, m.next.of(3))).toEqual(['in1'])
    expect(ids(m, m.next.of(1))).toEqual(['after'])
    expect(m.instances.get('sf')).toEqual([3])
  })

  it('knows disabled nodes, disabled tabs, and subflows whose every instance is disabled', () => {
    const m = model([
      {id: 't1', type: 'tab', disabled: true},
      {id: 'a', type: 'inject', z: 't1', x: 0, y: 0},
      {id: 'b', type: 'inject', d: true, x: 0, y: 0},
      {id: 'sf', type: 'subflow', name: 'S'},
      {id: 'c', type: 'rbe', z: 'sf', x: 0, y: 0},
      {id: 'inst', type: 'subflow:sf', z: 't1', x: 0, y: 0},
      {id: 'e', type: 'inject', x: 0, y: 0},
    ])
    expect([0, 1, 2, 4, 5, 6].map(i => m.isDisabled(i))).toEqual([true, true, true, true, true, false])
  })

  it('survives wrong types, unknown ids, duplicate ids and subflows that contain themselves', () => {
    const m = model([
      {id: 'sf', type: 'subflow', in: 'x', out: [null, {wires: 5}, {wires: [null, {id: 7}]}]},
      {id: 'inst', type: 'subflow:sf', z: 'sf', x: 0, y: 0, wires: 'nope'},
      {id: 'a', type: 'function', z: 42, wires: [null, 'b', [1, null, 'nowhere', 'a']], x: 0, y: 0},
      {id: 'a', type: 'debug', z: 'missing-tab'},
      {id: 'lo', type: 'link out', links: {li: true}},
      {id: 'li', type: 'link in', links: 'lo'},
      {id: 'sub2', type: 'subflow:ghost', d: true},
    ])
    expect(m.duplicateIds).toEqual(['a'])
    expect(m.parent[2]).toBe(-1)
    expect(m.parent[3]).toBe(-1)
    expect(m.next.list.length).toBe(0)
    expect(m.isDisabled(1)).toBe(false)
    expect(m.isDisabled(6)).toBe(true)
  })
})
