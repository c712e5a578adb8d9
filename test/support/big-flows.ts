// Flows files of a chosen size, for tests and benches of large deploys. Function nodes, since they are what
// makes a deploy slow in practice (each one compiles its code when the flows start).
import type {FlowNode} from '../../src/admin/types.js'

export function bigFlows(targetBytes: number, tab = 'big-tab'): FlowNode[] {
  const body = `// padding so that the file reaches its size\nconst n = msg.payload || 0;\nmsg.payload = n + 1;\n${'// ' + 'x'.repeat(700)}\nreturn msg;`
  const nodes: FlowNode[] = [{id: tab, type: 'tab', label: 'big'}]
  let size = 100
  for (let i = 0; size < targetBytes; i++) {
    const node: FlowNode = {id: `${tab}-fn-${i}`, type: 'function', z: tab, name: `f${i}`, func: body, outputs: 1, x: 100 + (i % 20) * 30, y: 40 + Math.floor(i / 20) * 30, wires: [[]]}
    size += JSON.stringify(node).length + 1
    nodes.push(node)
  }
  return nodes
}
