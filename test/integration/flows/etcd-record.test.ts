import {randomBytes} from 'node:crypto'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {skipWithoutEtcd, startEtcd, type EtcdCluster} from '../../../harness/etcd.js'
import {ETCD_MAX_REQUEST_BYTES, EtcdFlowsRecordStore} from '../../../src/agent/flows-record/etcd.js'
import type {FlowsRecord} from '../../../src/agent/flows-record/record.js'
import {RemoteError} from '../../../src/errors.js'

// The editor's flows record on a REAL etcd member (Debian's etcd-server 3.4): compare-and-swap create, update
// and conflict on the record key's mod_revision; the head key always names what the record holds (one txn);
// no etcd lease on either key; a record over etcd's request limit refused with the reason. Without etcd this
// file says loudly what did not run (and fails under CI=true or FF_HA_REQUIRE_ETCD=1).
const skip = skipWithoutEtcd('test/integration/flows/etcd-record.test.ts (the flows record on a real etcd member)')

const prefix = () => `/ff-ha-test/${randomBytes(6).toString('hex')}/`
const b64 = (s: string) => Buffer.from(s).toString('base64')

const record = (label: string, replica = 'a', origin: FlowsRecord['origin'] = 'editor'): FlowsRecord => ({
  rev: `rev-${label}`,
  flows: [{id: 'tab', type: 'tab', label}, {id: 'n1', type: 'inject', z: 'tab', name: label, wires: [[]]}],
  credentials: {$: `encrypted-${label}`},
  credentialsChanged: label === 'two',
  origin,
  replica,
  at: 1_700_000_000_000,
})

async function rawGet(endpoint: string, key: string): Promise<{lease?: string; mod_revision?: string} | undefined> {
  const res = await request(`${endpoint}/v3/kv/range`, {method: 'POST', body: JSON.stringify({key: b64(key)})})
  const body = (await res.body.json()) as {kvs?: {lease?: string; mod_revision?: string}[]}
  return body.kvs?.[0]
}

describe.skipIf(skip)('the flows record on real etcd', () => {
  let etcd: EtcdCluster
  const stores: EtcdFlowsRecordStore[] = []
  const open = (p: string, endpoints = etcd.endpoints) => {
    const s = new EtcdFlowsRecordStore({endpoints, prefix: p, name: 'ed-leader'})
    stores.push(s)
    return s
  }
  beforeAll(async () => {
    etcd = await startEtcd(1)
  }, 60_000)
  afterAll(async () => {
    await Promise.all(stores.map(s => s.close()))
    await etcd?.destroy()
  })

  it('create, update and conflict are compare-and-swap on the record key\'s mod_revision; the head always matches what read() returns', async () => {
    const p = prefix()
    const [a, b] = [open(p), open(p)]
    expect(await a.head()).toBeNull()
    expect(await a.read()).toBeNull()

    const v1 = await a.write(record('one'), null)
    expect(v1).toMatch(/^[1-9]\d*$/)
    // A second create loses: the record exists.
    expect(await b.write(record('other', 'b'), null)).toBeNull()
    expect(await b.head()).toEqual({version: v1, rev: 'rev-one', origin: 'editor', replica: 'a'})
    expect(await b.read()).toEqual({version: v1, record: record('one')})

    // Two writers with the same version: one wins, the other is told (null), and nothing of it is written.
    const results = await Promise.all([a.write(record('two', 'a', 'api'), v1), b.write(record('three', 'b'), v1)])
    expect(results.filter(r => r === null)).toHaveLength(1)
    const v2 = results.find(r => r !== null)!
    expect(Number(v2)).toBeGreaterThan(Number(v1!))
    const won = results[0] !== null ? record('two', 'a', 'api') : record('three', 'b')
    const head = await a.head()
    const read = await a.read()
    expect(read).toEqual({version: v2, record: won})
    expect(head).toEqual({version: read!.version, rev: won.rev, origin: won.origin, replica: won.replica})
    // A stale version, and a version the store never issues, are conflicts too.
    expect(await b.write(record('four'), v1)).toBeNull()
    expect(await b.write(record('four'), 'f12')).toBeNull()
    expect((await b.head())!.version).toBe(v2)

    // Both keys written in one txn: the same mod_revision; neither hangs on an etcd lease.
    const [h, r] = [await rawGet(etcd.endpoints[0], `${p}flows/ed-leader/head`), await rawGet(etcd.endpoints[0], `${p}flows/ed-leader/record`)]
    expect(h?.mod_revision).toBe(v2)
    expect(r?.mod_revision).toBe(v2)
    expect(h?.lease ?? '0').toBe('0')
    expect(r?.lease ?? '0').toBe('0')
  })

  it('many racing updates: every head read at any moment names a rev whose record read at that version has the same rev', async () => {
    const p = prefix()
    const writers = [open(p), open(p), open(p)]
    const reader = open(p)
    await writers[0].write(record('w0-0'), null)
    let stop = false
    const mismatches: string[] = []
    const check = (async () => {
      while (!stop) {
        const h = await reader.head()
        const r = await reader.read()
        // read() after head(): same version means same contents (one txn wrote both keys).
        if (h && r && h.version === r.version && h.rev !== r.record.rev) mismatches.push(`${h.version}: head ${h.rev}, record ${r.record.rev}`)
      }
    })()
    let wins = 0
    await Promise.all(writers.map(async (w, i) => {
      for (let n = 1; n <= 15; n++) {
        const cur = await w.read()
        if ((await w.write(record(`w${i}-${n}`, `w${i}`), cur!.version)) !== null) wins++
      }
    }))
    stop = true
    await check
    expect(mismatches).toEqual([])
    expect(wins).toBeGreaterThan(0)
    const final = (await reader.read())!
    expect(await reader.head()).toMatchObject({version: final.version, rev: final.record.rev})
  }, 60_000)

  it('refuses a record that does not fit in one etcd request, saying why; nothing is written', async () => {
    const p = prefix()
    const s = open(p)
    const v1 = (await s.write(record('small'), null))!
    // Random text compresses little: ~2 MiB of base64 stays well over 1.5 MiB gzip'd.
    const big = {...record('big'), flows: [{id: 'tab', type: 'tab', label: 'big', info: randomBytes(1_600_000).toString('base64')}]}
    const err = await s.write(big, v1).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteError)
    expect((err as Error).message).toMatch(new RegExp(`KiB compressed; one etcd request holds at most ${ETCD_MAX_REQUEST_BYTES / 1024} KiB`))
    expect(await s.head()).toMatchObject({version: v1, rev: 'rev-small'})
    // Just under the limit is fine (etcd's own limit is what we mirror: it accepts it).
    const fits = {...record('fits'), flows: [{id: 'tab', type: 'tab', label: 'fits', info: randomBytes(1_000_000).toString('base64')}]}
    const v2 = await s.write(fits, v1)
    expect(v2).not.toBeNull()
    expect((await s.read())!.record.flows[0].info).toBe(fits.flows[0].info)
  }, 60_000)

  it('an unreachable etcd is an error naming the endpoint, not a silent null', async () => {
    const s = open(prefix(), ['http://127.0.0.1:1'])
    await expect(s.head()).rejects.toThrow(/etcd unreachable: http:\/\/127\.0\.0\.1:1 \(connection refused\)/)
  }, 30_000)
})
