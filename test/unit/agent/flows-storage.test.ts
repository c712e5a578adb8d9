import {createServer, type Server} from 'node:http'
import {createRequire} from 'node:module'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'

// ff-ha's Node-RED storage module (nodes/storage/flows-record.js, CommonJS, loaded by settings.js), with a
// fake inner storage (what localfilesystem would write) and an in-process HTTP server in the agent's place.

interface Wrapper {
  getFlows(): Promise<unknown[]>
  saveCredentials(c: unknown): Promise<void>
  saveFlows(flows: unknown[], user?: {username: string}): Promise<void>
}
const {flowsRecordStorage, revOf} = createRequire(import.meta.url)(join(packageRoot, 'nodes', 'storage', 'flows-record.js')) as {
  flowsRecordStorage(o: {url: string; token: string; inner: unknown; timeoutMs?: number}): Wrapper
  revOf(flows: unknown): string
}

const OLD = [{id: 't', type: 'tab', label: 'old'}]
const NEW = [{id: 't', type: 'tab', label: 'new'}]

function innerStorage() {
  const disk = {flows: OLD as unknown[], credentials: {$: 'on-disk-blob'} as unknown, writes: [] as string[]}
  return {
    disk,
    init: async () => undefined,
    getFlows: async () => disk.flows,
    getCredentials: async () => disk.credentials,
    saveFlows: async (f: unknown[]) => {
      disk.writes.push('flows')
      disk.flows = f
    },
    saveCredentials: async (c: unknown) => {
      disk.writes.push('credentials')
      disk.credentials = c
    },
    getSettings: async () => ({}),
  }
}

let server: Server | null = null
afterEach(async () => {
  if (server) await new Promise(r => server!.close(r))
  server = null
})

/** The agent's commit endpoint: records what it got and answers `answer`. */
async function agent(answer: (body: Record<string, unknown>) => {status: number; body: unknown}) {
  const got: {auth?: string; body: Record<string, unknown>}[] = []
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>
      got.push({auth: req.headers.authorization, body})
      const a = answer(body)
      res.writeHead(a.status, {'content-type': 'application/json'})
      res.end(JSON.stringify(a.body))
    })
  })
  await new Promise<void>(r => server!.listen(0, '127.0.0.1', r))
  return {got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/flows-record`}
}

describe('the flows storage wrapper (nodes/storage/flows-record.js)', () => {
  it('commits before it writes: the previous rev, the new rev, the encrypted credentials, the origin; the admin token as bearer', async () => {
    const a = await agent(() => ({status: 200, body: {result: 'committed', rev: revOf(NEW)}}))
    const inner = innerStorage()
    const s = flowsRecordStorage({url: a.url, token: 'tok', inner})
    await s.getFlows()
    await s.saveCredentials({$: 'new-blob'})
    await s.saveFlows(NEW, {username: 'editor'})
    expect(a.got).toHaveLength(1)
    expect(a.got[0].auth).toBe('Bearer tok')
    expect(a.got[0].body).toMatchObject({previousRev: revOf(OLD), rev: revOf(NEW), credentials: {$: 'new-blob'}, credentialsChanged: true, origin: 'editor'})
    expect(inner.disk.writes).toEqual(['credentials', 'flows'])
    expect(inner.disk.flows).toEqual(NEW)
    // the next save names the new rev as its previous one; unchanged credentials are sent as they are on disk
    await s.saveFlows(OLD, {username: 'ff-ha'})
    expect(a.got[1].body).toMatchObject({previousRev: revOf(NEW), credentials: {$: 'new-blob'}, credentialsChanged: false, origin: 'api'})
  })

  it('a conflict is Node-RED\'s own 409 version_mismatch (the editor\'s "flows have been updated"), and nothing is written', async () => {
    const a = await agent(() => ({status: 409, body: {result: 'conflict', rev: 'f'.repeat(64), replica: 'b', at: 1}}))
    const inner = innerStorage()
    const s = flowsRecordStorage({url: a.url, token: 'tok', inner})
    await s.getFlows()
    await s.saveCredentials({$: 'new-blob'})
    const err = (await s.saveFlows(NEW, {username: 'editor'}).catch(e => e)) as {status: number; code: string; message: string}
    expect(err).toMatchObject({status: 409, code: 'version_mismatch'})
    expect(err.message).toMatch(/another deploy reached the shared flows record first .* from b/)
    expect(inner.disk.writes).toEqual([])
  })

  it('when the record already has the rev (a convergence), the record\'s credentials are written: Node-RED does not save a blob it was sent', async () => {
    const a = await agent(() => ({status: 200, body: {result: 'current', rev: revOf(NEW), credentials: {$: 'record-blob'}}}))
    const inner = innerStorage()
    const s = flowsRecordStorage({url: a.url, token: 'tok', inner})
    await s.getFlows()
    await s.saveFlows(NEW, {username: 'ff-ha'})
    expect(inner.disk.credentials).toEqual({$: 'record-blob'})
    expect(inner.disk.flows).toEqual(NEW)
  })

  it('plain credentials never leave the process, and an agent that does not answer fails the save: nothing written either way', async () => {
    const a = await agent(() => ({status: 200, body: {result: 'committed'}}))
    const inner = innerStorage()
    const s = flowsRecordStorage({url: a.url, token: 'tok', inner})
    await s.saveCredentials({node1: {password: 'plain'}})
    await expect(s.saveFlows(NEW, {username: 'editor'})).rejects.toMatchObject({message: expect.stringMatching(/not encrypted/)})
    expect(a.got).toEqual([])
    const gone = flowsRecordStorage({url: 'http://127.0.0.1:9/flows-record', token: 'tok', inner, timeoutMs: 2000})
    await expect(gone.saveFlows(NEW, {username: 'editor'})).rejects.toMatchObject({status: 503, message: expect.stringMatching(/Nothing was deployed/)})
    expect(inner.disk.writes).toEqual([])
  })
})
