import type {FlowNode} from '../admin/types.js'

export interface NodeRef {
  id: string
  type: string
  name?: string
}

export interface NodeChanges {
  added: NodeRef[]
  removed: NodeRef[]
  changed: NodeRef[]
}

/** Which nodes a deploy would add, remove and change (by id; key order and credentials ignored). */
export function diffFlows(current: FlowNode[], next: FlowNode[]): NodeChanges {
  const before = new Map(current.map(n => [n.id, n]))
  const after = new Map(next.map(n => [n.id, n]))
  const changes: NodeChanges = {added: [], removed: [], changed: []}
  for (const [id, node] of after) {
    const old = before.get(id)
    if (!old) changes.added.push(ref(node))
    else if (canonical(old) !== canonical(node)) changes.changed.push(ref(node))
  }
  for (const [id, node] of before) if (!after.has(id)) changes.removed.push(ref(node))
  return changes
}

function ref(node: FlowNode): NodeRef {
  const name = typeof node.name === 'string' && node.name ? node.name : typeof node.label === 'string' && node.label ? node.label : undefined
  return name ? {id: node.id, type: node.type, name} : {id: node.id, type: node.type}
}

function canonical(value: unknown, top = true): string {
  if (Array.isArray(value)) return '[' + value.map(v => canonical(v, false)).join(',') + ']'
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).filter(k => !(top && k === 'credentials')).sort()
    return '{' + keys.map(k => JSON.stringify(k) + ':' + canonical((value as Record<string, unknown>)[k], false)).join(',') + '}'
  }
  return JSON.stringify(value) ?? 'null'
}
