// Flows files of a chosen size, for tests and benches of large deploys.
//   function: function nodes only, ~900 bytes each: the worst case (each one compiles its code when flows start)
//   mixed:    inject, change, switch, function, debug in turn, ~350 bytes each, wired in chains of five
import type {FlowNode} from '../src/admin/types.js'

export type BigFlowsKind = 'function' | 'mixed'

export function bigFlows(targetBytes: number, tab = 'big-tab', kind: BigFlowsKind = 'function'): FlowNode[] {
  const body = `// padding so that the file reaches its size\nconst n = msg.payload || 0;\nmsg.payload = n + 1;\n${'// ' + 'x'.repeat(700)}\nreturn msg;`
  const nodes: FlowNode[] = [{id: tab, type: 'tab', label: 'big'}]
  let size = 100
  for (let i = 0; size < targetBytes; i++) {
    const id = `${tab}-${i}`
    const next = (i + 1) % 5 === 0 ? [] : [`${tab}-${i + 1}`]
    const at = {z: tab, x: 100 + (i % 5) * 150, y: 40 + Math.floor(i / 5) * 40}
    const node: FlowNode =
      kind === 'function'
        ? {id, type: 'function', ...at, name: `f${i}`, func: body, outputs: 1, wires: [[]]}
        : [
            {id, type: 'inject', ...at, name: `in ${i}`, props: [{p: 'payload'}], repeat: '', once: false, topic: `t/${i}`, payload: String(i), payloadType: 'num', wires: [next]},
            {id, type: 'change', ...at, name: `set ${i}`, rules: [{t: 'set', p: 'payload', pt: 'msg', to: `value ${i}`, tot: 'str'}], wires: [next]},
            {id, type: 'switch', ...at, name: `route ${i}`, property: 'payload', propertyType: 'msg', rules: [{t: 'nnull'}], checkall: 'true', repair: false, outputs: 1, wires: [next]},
            {id, type: 'function', ...at, name: `fn ${i}`, func: 'msg.count = (msg.count || 0) + 1;\nreturn msg;', outputs: 1, wires: [next]},
            {id, type: 'debug', ...at, name: `out ${i}`, active: false, tosidebar: true, complete: 'false', wires: []},
          ][i % 5]
    size += JSON.stringify(node).length + 1
    nodes.push(node)
  }
  return nodes
}
