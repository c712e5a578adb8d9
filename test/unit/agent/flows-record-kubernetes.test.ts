import {randomBytes} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'
import {afterEach, describe, expect, it} from 'vitest'
import type {AdminClient} from '../../../src/admin/client.js'
import type {FlowNode} from '../../../src/admin/types.js'
import {KubernetesFlowsRecordStore} from '../../../src/agent/flows-record/kubernetes.js'
import type {FlowsRecord} from '../../../src/agent/flows-record/record.js'
import {FlowsSync} from '../../../src/agent/flows-sync.js'
import {flowsRev} from '../../../src/deploy/rev.js'
import {FakeClock} from './fakes.js'

// The flows record as a ConfigMap, against a FAKE Kubernetes API server (no real one can run here): an HTTP
// server on 127.0.0.1 that keeps ConfigMaps in memory the way the API server treats them for this use:
// GET 404 NotFound when absent; POST 409 AlreadyExists when present; PUT only with the current
// metadata.resourceVersion (409 Conflict otherwise, 404 when absent); an opaque new resourceVersion on every
// write. It is reached through @kubernetes/client-node's real CoreV1Api, so the requests are the client's own.

interface Stored {
  body: Record<string, any>
  version: string
}

function status(res: import('node:http').ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, {'content-type': 'application/json'})
  res.end(JSON.stringify({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code}))
}

async function fakeApiServer(): Promise<{url: string; server: Server; writes: number}> {
  const objects = new Map<string, Stored>()
  const state = {writes: 0}
  const server = createServer((req, res) => {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/?]+))?/.exec(req.url ?? '')
    if (!m) return status(res, 404, 'NotFound', 'the server could not find the requested resource')
    const [, ns, name] = m
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, any>) : null
      const key = `${ns}/${name ?? body?.metadata?.name}`
      const current = objects.get(key)
      const answer = (code: number, stored: Stored) => {
        res.writeHead(code, {'content-type': 'application/json'})
        res.end(JSON.stringify({...stored.body, metadata: {...stored.body.metadata, resourceVersion: stored.version}}))
      }
      if (req.method === 'GET') return current ? answer(200, current) : status(res, 404, 'NotFound', `configmaps "${name}" not found`)
      if (req.method === 'POST') {
        if (current) return status(res, 409, 'AlreadyExists', `configmaps "${body?.metadata?.name}" already exists`)
        const stored = {body: body!, version: randomBytes(4).toString('hex')}
        objects.set(key, stored)
        state.writes++
        return answer(201, stored)
      }
      if (req.method === 'PUT') {
        if (!current) return status(res, 404, 'NotFound', `configmaps "${name}" not found`)
        if (body?.metadata?.resourceVersion !== current.version) return status(res, 409, 'Conflict', `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`)
        const stored = {body: body!, version: randomBytes(4).toString('hex')}
        objects.set(key, stored)
        state.writes++
        return answer(200, stored)
      }
      status(res, 405, 'MethodNotAllowed', 'method not allowed')
    })
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, get writes() { return state.writes }}
}

function coreApiAt(url: string): CoreV1Api {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'fake', server: url, skipTLSVerify: true}],
    users: [{name: 'fake', token: 'fake-token'}],
    contexts: [{name: 'fake', cluster: 'fake', user: 'fake'}],
    currentContext: 'fake',
  })
  return kc.makeApiClient(CoreV1Api)
}

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise(r => s.close(r))
})

const X: FlowNode[] = [{id: 't', type: 'tab', label: 'x'}]
const Y: FlowNode[] = [{id: 't', type: 'tab', label: 'y'}, {id: 'f', type: 'function', z: 't', func: 'return msg', wires: [[]]}]
const Z: FlowNode[] = [{id: 't', type: 'tab', label: 'z'}]

function record(flows: FlowNode[], replica = 'a'): FlowsRecord {
  return {rev: flowsRev(flows), flows, credentials: {$: 'encrypted-blob'}, credentialsChanged: true, origin: 'editor', replica, at: 1_800_000_000_000}
}

describe('the flows record in a Kubernetes ConfigMap (fake API server)', () => {
  it('is created, read back whole (flows gzip\'d in binaryData, credentials still the encrypted blob), and its head is the cheap part', async () => {
    const api = await fakeApiServer()
    servers.push(api.server)
    const store = new KubernetesFlowsRecordStore(coreApiAt(api.url), 'ns1', 'set-leader')
    expect(store.describe).toBe('kubernetes configmap ns1/set-leader-flows')
    expect(await store.head()).toBeNull()
    const v = await store.write(record(Y), null)
    expect(v).toMatch(/^[0-9a-f]{8}$/)
    expect(await store.head()).toEqual({version: v, rev: flowsRev(Y), origin: 'editor', replica: 'a'})
    expect(await store.read()).toEqual({version: v, record: record(Y)})
  })

  it('writes are compare-and-swap on the resourceVersion: a stale version or a second create is a conflict (null), not an error', async () => {
    const api = await fakeApiServer()
    servers.push(api.server)
    const a = new KubernetesFlowsRecordStore(coreApiAt(api.url), 'ns1', 'set-leader')
    const b = new KubernetesFlowsRecordStore(coreApiAt(api.url), 'ns1', 'set-leader')
    const v1 = await a.write(record(X), null)
    expect(await b.write(record(Y), null)).toBeNull()
    const v2 = await b.write(record(Y, 'b'), v1)
    expect(v2).not.toBeNull()
    expect(await a.write(record(Z), v1)).toBeNull()
    expect((await a.head())?.rev).toBe(flowsRev(Y))
  })

  it('flows that do not fit a ConfigMap even compressed are refused with the reason (the Deploy fails, nothing applied)', async () => {
    const api = await fakeApiServer()
    servers.push(api.server)
    const store = new KubernetesFlowsRecordStore(coreApiAt(api.url), 'ns1', 'set-leader')
    const big: FlowNode[] = Array.from({length: 3000}, (_, i) => ({id: `n${i}`, type: 'comment', z: 't', info: randomBytes(600).toString('base64')}))
    await expect(store.write(record(big), null)).rejects.toThrow(/a Kubernetes ConfigMap holds at most 1024 KiB/)
    expect(api.writes).toBe(0)
  })

  it('two agents on one ConfigMap: two Deploys racing from the same rev, one commits and the other is told it conflicted; the other replica then converges', async () => {
    const api = await fakeApiServer()
    servers.push(api.server)
    const agents = ['a', 'b'].map(replica => {
      const nodeRed = {flows: X, posts: 0, async getFlows() { return {flows: this.flows, rev: flowsRev(this.flows)} }, async postFlows(f: FlowNode[]) { this.posts++; this.flows = f; return {rev: flowsRev(f)} }}
      const sync = new FlowsSync({
        replica,
        store: new KubernetesFlowsRecordStore(coreApiAt(api.url), 'ns1', 'set-leader'),
        admin: nodeRed as unknown as AdminClient,
        token: 't',
        log: () => undefined,
        clock: new FakeClock(),
        pollMs: 1000,
        running: () => true,
        generation: () => 1,
      })
      return {sync, nodeRed}
    })
    const commit = (flows: FlowNode[]) => ({previousRev: flowsRev(X), rev: flowsRev(flows), flows, credentials: null, credentialsChanged: false, origin: 'editor' as const})
    const answers = await Promise.all([agents[0].sync.commit(commit(Y)), agents[1].sync.commit(commit(Z))])
    expect(answers.map(a => a.status).sort()).toEqual([200, 409])
    const [winner, loser] = answers[0].status === 200 ? [agents[0], agents[1]] : [agents[1], agents[0]]
    winner.nodeRed.flows = answers[0].status === 200 ? Y : Z
    await loser.sync.tick()
    expect(loser.nodeRed.flows).toEqual(winner.nodeRed.flows)
    expect(loser.sync.mayLead()).toBe(true)
    await winner.sync.tick()
    expect(winner.nodeRed.posts).toBe(0)
  })
})
