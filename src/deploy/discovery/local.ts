import {readFileSync} from 'node:fs'
import {z} from 'zod'
import type {ReplicaTarget} from '../../admin/types.js'
import {InputError} from '../../errors.js'
import {replicaTargetSchema} from '../../profile/schema.js'

import {DEFAULT_CLUSTER_FILE} from '../../paths.js'

export {DEFAULT_CLUSTER_FILE}

const clusterSchema = z.object({replicas: z.array(replicaTargetSchema.loose()).min(1)})

/** The local cluster that `ff-ha failover-test` writes: {"replicas": [{"name", "url", "agentUrl"}]}. */
export function readClusterFile(file = DEFAULT_CLUSTER_FILE): ReplicaTarget[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as {code?: string}).code
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no local cluster file' : 'cannot read it'}`, 'start a local cluster with `ff-ha failover-test --target local --keep`, or pass --cluster-file / --target')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InputError(`${file}: not JSON`)
  }
  const parsed = clusterSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InputError(`${file}: ${issue.path.join('.') || 'file'}: ${issue.message}`, 'expected {"replicas": [{"name": "...", "url": "http://...", "agentUrl": "http://..."}]}')
  }
  return parsed.data.replicas.map(r => ({name: r.name, url: r.url, ...(r.agentUrl ? {agentUrl: r.agentUrl} : {})}))
}
