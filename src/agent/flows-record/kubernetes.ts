import {gunzipSync, gzipSync} from 'node:zlib'
import type {V1ConfigMap} from '@kubernetes/client-node'
import {RemoteError} from '../../errors.js'
import {flowsRecordName, type FlowsRecord, type FlowsRecordStore, type RecordHead} from './record.js'

/** The part of @kubernetes/client-node's CoreV1Api (object-parameter style) that the flows record uses. */
export interface ConfigMapApi {
  readNamespacedConfigMap(param: {name: string; namespace: string}): Promise<V1ConfigMap>
  createNamespacedConfigMap(param: {namespace: string; body: V1ConfigMap}): Promise<V1ConfigMap>
  replaceNamespacedConfigMap(param: {name: string; namespace: string; body: V1ConfigMap}): Promise<V1ConfigMap>
}

/** The API server refuses an object larger than this (etcd's request limit, 1.5 MiB, less the envelope). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024


function statusOf(err: unknown): number | undefined {
  const e = err as {code?: unknown; statusCode?: unknown; response?: {statusCode?: unknown}}
  for (const v of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof v === 'number') return v
  return undefined
}

// The flows record as a ConfigMap named after the Lease, in its namespace: the flows gzip'd in binaryData
// (a ConfigMap holds at most 1 MiB), the rest in data, every write a replace with the resourceVersion read
// (the API server answers 409 to a write that raced another: compare-and-swap). Credentials stay Node-RED's
// encrypted blob, as everywhere.
export class KubernetesFlowsRecordStore implements FlowsRecordStore {
  readonly describe: string
  private readonly name: string

  constructor(private readonly api: ConfigMapApi, private readonly namespace: string, lease: string) {
    this.name = flowsRecordName(lease)
    this.describe = `kubernetes configmap ${namespace}/${this.name}`
  }

  private async get(): Promise<V1ConfigMap | null> {
    try {
      return await this.api.readNamespacedConfigMap({name: this.name, namespace: this.namespace})
    } catch (err) {
      if (statusOf(err) === 404) return null
      throw err
    }
  }

  async head(): Promise<RecordHead | null> {
    const cm = await this.get()
    const d = cm?.data
    if (!cm || !d?.rev) return null
    return {version: cm.metadata?.resourceVersion ?? '', rev: d.rev, origin: d.origin === 'api' ? 'api' : 'editor', replica: d.replica ?? ''}
  }

  async read(): Promise<{record: FlowsRecord; version: string} | null> {
    const cm = await this.get()
    const d = cm?.data
    const gz = cm?.binaryData?.['flows.json.gz']
    if (!cm || !d?.rev || !gz) return null
    return {
      version: cm.metadata?.resourceVersion ?? '',
      record: {
        rev: d.rev,
        flows: JSON.parse(gunzipSync(Buffer.from(gz, 'base64')).toString('utf8')) as FlowsRecord['flows'],
        credentials: d.credentials ? (JSON.parse(d.credentials) as FlowsRecord['credentials']) : null,
        credentialsChanged: d.credentialsChanged === 'true',
        origin: d.origin === 'api' ? 'api' : 'editor',
        replica: d.replica ?? '',
        at: Number(d.at) || 0,
      },
    }
  }

  async write(record: FlowsRecord, version: string | null): Promise<string | null> {
    const flows = gzipSync(JSON.stringify(record.flows)).toString('base64')
    const data: Record<string, string> = {
      rev: record.rev,
      origin: record.origin,
      replica: record.replica,
      at: String(record.at),
      credentialsChanged: String(record.credentialsChanged),
      ...(record.credentials ? {credentials: JSON.stringify(record.credentials)} : {}),
    }
    const size = flows.length + Object.values(data).reduce((n, v) => n + v.length, 0)
    if (size > CONFIGMAP_MAX_BYTES) {
      throw new RemoteError(`the flows are ${Math.ceil(size / 1024)} KiB compressed; a Kubernetes ConfigMap holds at most ${CONFIGMAP_MAX_BYTES / 1024} KiB`, {
        hint: 'deploy large flows with ff-ha deploy, or use the sqlite or etcd lease',
      })
    }
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: this.name, namespace: this.namespace, labels: {'app.kubernetes.io/managed-by': 'ff-ha'}, ...(version !== null ? {resourceVersion: version} : {})},
      data,
      binaryData: {'flows.json.gz': flows},
    }
    try {
      const written = version === null
        ? await this.api.createNamespacedConfigMap({namespace: this.namespace, body})
        : await this.api.replaceNamespacedConfigMap({name: this.name, namespace: this.namespace, body})
      return written.metadata?.resourceVersion ?? ''
    } catch (err) {
      const status = statusOf(err)
      if (status === 409 || status === 404) return null
      throw err
    }
  }

  async close(): Promise<void> {}
}

/** A CoreV1Api from the in-cluster service account (loaded lazily: the client is large). */
export async function inClusterConfigMapApi(): Promise<ConfigMapApi> {
  const k8s = await import('@kubernetes/client-node')
  const kc = new k8s.KubeConfig()
  kc.loadFromCluster()
  return kc.makeApiClient(k8s.CoreV1Api)
}
