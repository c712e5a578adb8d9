import {gunzipSync, gzipSync} from 'node:zlib'
import {performance} from 'node:perf_hooks'
import {RemoteError} from '../../errors.js'
import {EtcdAnswerError, EtcdClient, b64, unb64, type EtcdClientOptions} from '../lease/etcd-client.js'
import type {FlowsRecord, FlowsRecordStore, RecordHead} from './record.js'

/** etcd refuses a request larger than this by default (--max-request-bytes, 1.5 MiB). */
export const ETCD_MAX_REQUEST_BYTES = 1536 * 1024
/** What the record key's value may take: the request less the head key, the key names and the envelope. */
export const ETCD_RECORD_MAX_BYTES = ETCD_MAX_REQUEST_BYTES - 8 * 1024

/**
 * Deadlines of the record's calls. Not the lease's (500 ms a round, 250 ms an endpoint): a commit of a large
 * record may take longer on a busy member, and a Deploy that waits a few seconds is better than one refused.
 * A dead member still costs at most one attempt: the client sticks to the member that answered.
 */
const ATTEMPT_TIMEOUT_MS = 3000
const OPERATION_TIMEOUT_MS = 10_000

interface KeyValue {
  value?: string
  mod_revision?: string
}
interface TxnResponse {
  header?: {revision?: string}
  succeeded?: boolean
}

// The flows record on the etcd lease's cluster, with the lease's endpoints, prefix, TLS and etcd user. Two
// keys, beside the lease's:
//  - `<prefix>flows/<name>/head`: {rev, origin, replica} (JSON), what a poll reads (every 100 ms: tiny);
//  - `<prefix>flows/<name>/record`: the whole record, JSON gzip'd (etcd values are bytes; the gateway
//    base64s them on the wire).
// Every write puts both in ONE transaction that compares the record key's mod_revision (a create: its
// create_revision is 0), so both keys always carry the same mod_revision: that is the version, and a head
// never names a rev the record does not hold. Neither key hangs on an etcd lease: the record must outlive
// every holder. Credentials stay Node-RED's encrypted blob, as everywhere.
export class EtcdFlowsRecordStore implements FlowsRecordStore {
  readonly describe: string
  private readonly client: EtcdClient
  private readonly headKey: string
  private readonly recordKey: string

  constructor(options: Omit<EtcdClientOptions, 'attemptTimeoutMs'> & {prefix: string; name: string}) {
    this.client = new EtcdClient({...options, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS})
    this.headKey = `${options.prefix}flows/${options.name}/head`
    this.recordKey = `${options.prefix}flows/${options.name}/record`
    this.describe = `etcd ${this.recordKey} (${options.endpoints.join(', ')})`
  }

  private deadline(): number {
    return performance.now() + OPERATION_TIMEOUT_MS
  }

  private async get(key: string): Promise<KeyValue | null> {
    const res = await this.client.call<{kvs?: KeyValue[]}>('/v3/kv/range', {key: b64(key)}, this.deadline())
    return res.kvs?.[0] ?? null
  }

  async head(): Promise<RecordHead | null> {
    const kv = await this.get(this.headKey)
    if (!kv) return null
    const h = JSON.parse(unb64(kv.value)) as Partial<RecordHead>
    if (typeof h.rev !== 'string' || !h.rev) return null
    return {version: kv.mod_revision ?? '', rev: h.rev, origin: h.origin === 'api' ? 'api' : 'editor', replica: h.replica ?? ''}
  }

  async read(): Promise<{record: FlowsRecord; version: string} | null> {
    const kv = await this.get(this.recordKey)
    if (!kv?.value) return null
    const r = JSON.parse(gunzipSync(Buffer.from(kv.value, 'base64')).toString('utf8')) as FlowsRecord
    return {
      version: kv.mod_revision ?? '',
      record: {
        rev: r.rev,
        flows: r.flows,
        credentials: r.credentials ?? null,
        credentialsChanged: r.credentialsChanged === true,
        origin: r.origin === 'api' ? 'api' : 'editor',
        replica: r.replica ?? '',
        at: Number(r.at) || 0,
      },
    }
  }

  async write(record: FlowsRecord, version: string | null): Promise<string | null> {
    if (version !== null && !/^[1-9]\d*$/.test(version)) return null // a version we never issued
    const value = gzipSync(JSON.stringify(record))
    if (value.length > ETCD_RECORD_MAX_BYTES) {
      throw new RemoteError(`the flows are ${Math.ceil(value.length / 1024)} KiB compressed; one etcd request holds at most ${ETCD_MAX_REQUEST_BYTES / 1024} KiB (etcd's --max-request-bytes default)`, {
        hint: 'deploy large flows with ff-ha deploy, or raise --max-request-bytes on every etcd member',
      })
    }
    const head = b64(JSON.stringify({rev: record.rev, origin: record.origin, replica: record.replica}))
    const compare = version === null
      ? [{key: b64(this.recordKey), target: 'CREATE', result: 'EQUAL', create_revision: '0'}]
      : [{key: b64(this.recordKey), target: 'MOD', result: 'EQUAL', mod_revision: version}]
    const success = [
      {request_put: {key: b64(this.recordKey), value: value.toString('base64')}},
      {request_put: {key: b64(this.headKey), value: head}},
    ]
    let res: TxnResponse
    try {
      res = await this.client.call<TxnResponse>('/v3/kv/txn', {compare, success}, this.deadline())
    } catch (err) {
      // A member started with a smaller --max-request-bytes than the default.
      if (err instanceof EtcdAnswerError && /request is too large/i.test(err.etcdMessage)) {
        throw new RemoteError(`the flows are ${Math.ceil(value.length / 1024)} KiB compressed: etcd refused the request as too large (${err.etcdMessage})`, {
          hint: 'deploy large flows with ff-ha deploy, or raise --max-request-bytes on every etcd member',
        })
      }
      throw err
    }
    if (!res.succeeded) return null
    return res.header?.revision ?? ''
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}
