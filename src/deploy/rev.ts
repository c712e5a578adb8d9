import {createHash} from 'node:crypto'
import type {FlowNode} from '../admin/types.js'

/**
 * The rev Node-RED will report for these flows: sha256 of JSON.stringify(flows) after it strips each node's
 * `credentials` property (runtime/lib/flows: credentials.clean, storage.saveFlows). Identical flows give the
 * same rev on every replica, which is what proves convergence.
 */
export function flowsRev(flows: FlowNode[]): string {
  const clean = flows.map(node => {
    if (!('credentials' in node)) return node
    const {credentials: _dropped, ...rest} = node
    return rest
  })
  return createHash('sha256').update(JSON.stringify(clean)).digest('hex')
}

export function shortRev(rev: string | null | undefined): string {
  return rev ? rev.slice(0, 8) : '-'
}
