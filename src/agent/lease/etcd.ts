// The etcd lease store: LeaseStore's compare-and-swap on etcd's revisions (docs/design/etcd-lease.md has the
// mapping and the proof sketch). I/O only; every decision is in machine.ts.
//
// Two keys per lease:
//  - `<prefix>lease/<name>`: the record (JSON), attached to an etcd lease of the holder's (TTL >= the lease
//    duration) that the holder's every write keeps alive, so that a dead holder's key also goes away in etcd;
//    a release puts it back without an etcd lease (holder null), so it stays;
//  - `<prefix>fence/<name>`: the record as of the last new token (or release), never attached to a lease: it
//    outlives an expired lease key, so that the fencing token (record.transitions) never goes back, even after
//    the lease key expired and was created anew (invariant 6). Every write that sets a token the fence key may
//    not hold yet writes both keys in one transaction; a renewal writes the lease key only.
//
// The version is the lease key's mod_revision ("123"); when the lease key is gone but the fence key is there
// it is "f<the fence key's mod_revision>", and a write with it must find the lease key still absent and the
// fence key unchanged. No keys at all: {record: null, version: null}.
import {performance} from 'node:perf_hooks'
import type {LeaseRecord, Observed} from './machine.js'
import type {LeaseStore} from './store.js'
import {EtcdAnswerError, EtcdClient, b64, unb64, type EtcdClientOptions} from './etcd-client.js'

export interface EtcdLeaseStoreOptions extends EtcdClientOptions {
  /** Key prefix, e.g. "/ff-ha/". */
  prefix: string
  /** The lease's name (one per profile: `<profile name>-leader`). */
  name: string
  /** The longest one read() or write() may take, all endpoints and calls included. */
  operationTimeoutMs: number
  /**
   * The shortest TTL of our etcd lease, in seconds (default 1; etcd raises it to its own minimum). Longer only
   * delays when etcd deletes a dead holder's key: the conformance suite sets it, so that a record written by a
   * worker process that has exited is still there when a slow machine reads it.
   */
  minTtlSeconds?: number
}

interface KeyValue {
  key?: string
  value?: string
  create_revision?: string
  mod_revision?: string
}
interface RangeResponse {
  kvs?: KeyValue[]
}
interface TxnResponse {
  header?: {revision?: string}
  succeeded?: boolean
  responses?: {response_range?: RangeResponse}[]
}

type Compare = {key: string; target: 'CREATE' | 'MOD'; result: 'EQUAL'; create_revision?: string; mod_revision?: string}

export class EtcdLeaseStore implements LeaseStore {
  readonly describe: string
  private readonly client: EtcdClient
  private readonly leaseKey: string
  private readonly fenceKey: string
  /** The etcd lease our writes attach the lease key to, and its TTL in seconds. */
  private etcdLease: {id: string; ttlSeconds: number} | null = null
  /** The lease key's version and token as this store last read or wrote them (see write()). */
  private last: {version: string; transitions: number} | null = null

  constructor(private readonly options: EtcdLeaseStoreOptions) {
    this.client = new EtcdClient(options)
    this.leaseKey = `${options.prefix}lease/${options.name}`
    this.fenceKey = `${options.prefix}fence/${options.name}`
    this.describe = `etcd ${this.leaseKey} (${options.endpoints.join(', ')})`
  }

  private deadline(): number {
    return performance.now() + this.options.operationTimeoutMs
  }

  async read(): Promise<Observed> {
    // One read-only transaction: both keys at the same revision (linearizable, like every etcd read by default).
    const res = await this.client.call<TxnResponse>(
      '/v3/kv/txn',
      {success: [{request_range: {key: b64(this.leaseKey)}}, {request_range: {key: b64(this.fenceKey)}}]},
      this.deadline(),
    )
    const lease = res.responses?.[0]?.response_range?.kvs?.[0]
    const fence = res.responses?.[1]?.response_range?.kvs?.[0]
    if (lease) {
      const record = parseRecord(lease)
      const version = lease.mod_revision ?? '0'
      this.last = {version, transitions: record.transitions}
      return {record, version}
    }
    this.last = null
    if (fence) {
      // The lease key expired with its holder's etcd lease: nobody holds it, and the token carries on.
      return {record: {...parseRecord(fence), holder: null}, version: `f${fence.mod_revision ?? '0'}`}
    }
    return {record: null, version: null}
  }

  async write(record: LeaseRecord, version: string | null): Promise<string | null> {
    const compare = this.compareFor(version)
    if (!compare) return null // a version we never issued: nothing can match it
    const deadline = this.deadline()
    const value = b64(JSON.stringify(record))
    const lease = record.holder === null ? undefined : await this.liveLease(Math.max(this.options.minTtlSeconds ?? 1, Math.ceil(record.leaseDurationMs / 1000)), deadline)
    // A renewal (same version as last seen, same token) leaves the fence key alone: if the compare holds, the
    // lease key still has that token and the fence key already has it. Every other write (a new tenure, a
    // create, a write after the lease key expired) puts both. This halves the history that etcd keeps.
    const renewal = this.last !== null && this.last.version === version && this.last.transitions === record.transitions && record.holder !== null
    const puts = [
      {request_put: {key: b64(this.leaseKey), value, ...(lease ? {lease} : {})}},
      ...(renewal ? [] : [{request_put: {key: b64(this.fenceKey), value}}]),
    ]
    let res: TxnResponse
    try {
      res = await this.client.call<TxnResponse>('/v3/kv/txn', {compare, success: puts}, deadline)
    } catch (err) {
      // Our etcd lease expired between the keep-alive and the put: grant a new one next time.
      if (err instanceof EtcdAnswerError && /lease not found/i.test(err.etcdMessage)) this.etcdLease = null
      throw err
    }
    if (!res.succeeded) return null
    const written = res.header?.revision ?? '0'
    this.last = {version: written, transitions: record.transitions}
    if (record.holder === null) await this.revokeQuietly(deadline)
    return written
  }

  private compareFor(version: string | null): Compare[] | null {
    const lease = b64(this.leaseKey)
    const fence = b64(this.fenceKey)
    if (version === null) {
      return [
        {key: lease, target: 'CREATE', result: 'EQUAL', create_revision: '0'},
        {key: fence, target: 'CREATE', result: 'EQUAL', create_revision: '0'},
      ]
    }
    if (/^[1-9]\d*$/.test(version)) return [{key: lease, target: 'MOD', result: 'EQUAL', mod_revision: version}]
    const f = /^f([1-9]\d*)$/.exec(version)
    if (f) {
      return [
        {key: lease, target: 'CREATE', result: 'EQUAL', create_revision: '0'},
        {key: fence, target: 'MOD', result: 'EQUAL', mod_revision: f[1]},
      ]
    }
    return null
  }

  /**
   * Our etcd lease, kept alive now (the keep-alive is sent after the machine's sentAt, so etcd expires the key
   * no sooner than sentAt + TTL >= sentAt + leaseDuration), or a new one when it expired or its TTL changed.
   */
  private async liveLease(ttlSeconds: number, deadline: number): Promise<string> {
    const held = this.etcdLease
    if (held && held.ttlSeconds === ttlSeconds) {
      const res = await this.client.call<{result?: {TTL?: string}}>('/v3/lease/keepalive', {ID: held.id}, deadline)
      if (Number(res.result?.TTL ?? 0) > 0) return held.id
    }
    const granted = await this.client.call<{ID?: string; TTL?: string}>('/v3/lease/grant', {TTL: String(ttlSeconds)}, deadline)
    if (!granted.ID) throw new EtcdAnswerError(this.client.endpoints[0], 200, 'lease grant answered no ID')
    this.etcdLease = {id: granted.ID, ttlSeconds}
    return granted.ID
  }

  /** After a release the key no longer hangs on our etcd lease: drop it (best effort, it expires anyway). */
  private async revokeQuietly(deadline: number): Promise<void> {
    const held = this.etcdLease
    this.etcdLease = null
    if (!held) return
    await this.client.call('/v3/lease/revoke', {ID: held.id}, deadline).catch(() => undefined)
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}

/** A key someone else wrote by hand reads as a released lease with token 0 rather than failing every round. */
function parseRecord(kv: KeyValue): LeaseRecord {
  const text = unb64(kv.value)
  let r: Partial<LeaseRecord>
  try {
    r = JSON.parse(text) as Partial<LeaseRecord>
  } catch {
    r = {}
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return {
    holder: typeof r.holder === 'string' && r.holder ? r.holder : null,
    leaseDurationMs: num(r.leaseDurationMs),
    acquireTime: num(r.acquireTime),
    renewTime: num(r.renewTime),
    transitions: num(r.transitions),
  }
}
