import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {AdminClient} from '../admin/client.js'
import {AdminError} from '../admin/errors.js'
import type {Credentials, FlowNode} from '../admin/types.js'
import {errorMessage} from '../errors.js'
import type {Clock, Timer} from './clock.js'
import {isEncryptedCredentials, type FlowsRecord, type FlowsRecordStore, type RecordHead} from './flows-record/record.js'
import type {AgentLog} from './log.js'
import type {ExtraRoute} from './singleton-route.js'
import {openFlowsRecordStore} from './flows-record/open.js'
import {leaseBackend, type LeaseConfig} from './lease/backends/index.js'
import {ENV} from '../model/env.js'

// The agent's half of "the editor's Deploy reaches every replica" (docs/design/editor-deploy.md):
//  - commit(): this replica's storage wrapper (nodes/storage/flows-record.js) commits every save of the flows
//    here before Node-RED applies it; a compare-and-swap on the previous rev against the shared record;
//  - tick(): every pollMs, when the record changed since what this replica is known to run, bring the replica
//    to it through its own admin API, passing the rev just read so that Node-RED's own check refuses (409) to
//    overwrite an edit made meanwhile;
//  - mayLead(): the lease gate: a candidate wants the lease only with the record's flows.

/** The path of the commit endpoint on the agent's status server. */
export const FLOWS_RECORD_PATH = '/flows-record'

/**
 * How long a replica that runs flows leaves an `api` record (ff-ha deploy, a script with the admin token) to
 * the tool that made it: the tool updates running replicas in its own order (rolling; handover: spares, the
 * lease, then the old active). After that the agent finishes what the tool left half done.
 */
export const API_GRACE_MS = 30_000

/** After its own commit, how long a replica may take to finish saving before the agent looks again. */
const OWN_SAVE_MS = 10_000

export interface CommitRequest {
  previousRev: string | null
  rev: string
  flows: FlowNode[]
  credentials: FlowsRecord['credentials']
  credentialsChanged: boolean
  origin: FlowsRecord['origin']
}

export type CommitAnswer =
  | {status: 200; body: {result: 'committed' | 'current'; rev: string; credentials?: FlowsRecord['credentials']}}
  | {status: 409; body: {result: 'conflict'; rev: string; replica: string; at: number}}
  | {status: 400 | 401 | 503; body: {error: string}}

/** Parse a commit body (from Node-RED, but check it: the record is shared). */
export function parseCommit(body: unknown): CommitRequest | string {
  const b = body as Partial<CommitRequest> | null
  if (!b || typeof b !== 'object') return 'the body is not a JSON object'
  if (typeof b.rev !== 'string' || !/^[0-9a-f]{64}$/.test(b.rev)) return 'rev must be a sha256 hex string'
  if (b.previousRev !== null && typeof b.previousRev !== 'string') return 'previousRev must be a string or null'
  if (!Array.isArray(b.flows)) return 'flows must be an array'
  if (b.credentials !== null && !isEncryptedCredentials(b.credentials)) return 'credentials must be null or encrypted ({"$": "..."})'
  if (b.origin !== 'editor' && b.origin !== 'api') return 'origin must be "editor" or "api"'
  return {previousRev: b.previousRev ?? null, rev: b.rev, flows: b.flows, credentials: b.credentials ?? null, credentialsChanged: b.credentialsChanged === true, origin: b.origin}
}

export interface FlowsSyncOptions {
  replica: string
  store: FlowsRecordStore
  /** This replica's Node-RED admin API (a client with a timeout fit for a deploy). */
  admin: AdminClient
  /** The shared admin token: the commit endpoint's bearer (Node-RED's settings.js holds it, flows never see it). */
  token: string
  log: AgentLog
  clock: Clock
  pollMs: number
  apiGraceMs?: number
  /** Whether the replica's flows run now (the active; load-balanced replicas). */
  running(): boolean
  /** Changes when Node-RED was restarted (its pid): what was known of its flows is then forgotten. */
  generation(): unknown
}

export class FlowsSync {
  /** The record version this replica is known to run. */
  private applied: string | null = null
  private appliedGen: unknown = undefined
  private lastHead: RecordHead | null = null
  private storeOk = false
  private lastError = ''
  /** When this agent first saw each record version (monotonic): the api grace counts from there. */
  private seen = new Map<string, number>()
  private own: {version: string; previousRev: string | null; at: number} | null = null
  private timer: Timer | null = null
  private ticking = false
  /** The rev this agent is posting to its replica now: that save's commit is a convergence, not a deploy. */
  private converging: string | null = null
  private stopped = false
  private readonly expected: Buffer

  constructor(private readonly o: FlowsSyncOptions) {
    this.expected = Buffer.from(`Bearer ${o.token}`)
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return
      await this.tick()
      if (!this.stopped) this.timer = this.o.clock.after(this.o.pollMs, () => void loop())
    }
    void loop()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    await this.o.store.close()
  }

  /** The lease gate: the store was read, and there is no record, or this replica runs it. */
  mayLead(): boolean {
    if (!this.storeOk) return false
    if (this.lastHead === null) return true
    return this.applied === this.lastHead.version && this.appliedGen === this.o.generation()
  }

  /** The commit endpoint as a route of the agent's status server. */
  route(): ExtraRoute {
    return async (req, res, path) => {
      if (path !== FLOWS_RECORD_PATH) return false
      await this.handle(req, res)
      return true
    }
  }

  /** The commit endpoint (POST /flows-record): the admin token as bearer, a JSON commit. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (a: CommitAnswer) => {
      const text = JSON.stringify(a.body)
      res.writeHead(a.status, {'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text)})
      res.end(text)
    }
    const given = Buffer.from(req.headers.authorization ?? '')
    if (req.method !== 'POST') return send({status: 400, body: {error: 'only POST'}})
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) return send({status: 401, body: {error: 'this path needs the admin token'}})
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    let body: unknown
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      return send({status: 400, body: {error: 'the body is not JSON'}})
    }
    const parsed = parseCommit(body)
    if (typeof parsed === 'string') return send({status: 400, body: {error: parsed}})
    send(await this.commit(parsed))
  }

  /** Compare-and-swap the record: from previousRev to rev. */
  async commit(c: CommitRequest): Promise<CommitAnswer> {
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await this.o.store.read()
        if (current && current.record.rev === c.rev) {
          // The record already has these flows: the agent's own convergence, or the same flows deployed to
          // every replica. The replica gets the record's credentials (written by the wrapper).
          return {status: 200, body: {result: 'current', rev: c.rev, credentials: current.record.credentials}}
        }
        // Who may move the record: a user's Deploy only from the rev it was made on (a stale editor or the loser
        // of a race is refused: Node-RED's own conflict dialog); this agent's own convergence never (the record
        // moved on while it was posting: it converges again); a tool with the admin token (ff-ha deploy) always,
        // as it checked each replica's rev itself and deploys to every replica.
        const stale = current !== null && (c.origin === 'editor' ? current.record.rev !== c.previousRev : this.converging === c.rev)
        if (current && stale) {
          const r = current.record
          this.o.log('flows-record', {action: 'conflict', rev: c.rev.slice(0, 12), previousRev: c.previousRev?.slice(0, 12) ?? null, recordRev: r.rev.slice(0, 12), recordFrom: r.replica})
          return {status: 409, body: {result: 'conflict', rev: r.rev, replica: r.replica, at: r.at}}
        }
        const record: FlowsRecord = {rev: c.rev, flows: c.flows, credentials: c.credentials, credentialsChanged: c.credentialsChanged, origin: c.origin, replica: this.o.replica, at: this.o.clock.wall()}
        const version = await this.o.store.write(record, current?.version ?? null)
        if (version === null) continue // someone wrote in between: read again
        this.own = {version, previousRev: c.previousRev, at: this.o.clock.now()}
        this.o.log('flows-record', {action: 'committed', rev: c.rev.slice(0, 12), version, origin: c.origin, credentialsChanged: c.credentialsChanged})
        return {status: 200, body: {result: 'committed', rev: c.rev}}
      }
      return {status: 503, body: {error: 'the shared flows record kept changing under this commit; deploy again'}}
    } catch (err) {
      this.o.log('flows-record', {action: 'error', error: errorMessage(err), store: this.o.store.describe})
      return {status: 503, body: {error: `the shared flows record (${this.o.store.describe}) is unreachable: ${errorMessage(err)}`}}
    }
  }

  /** One look at the record, and one convergence step when the replica is behind it. */
  async tick(): Promise<void> {
    if (this.ticking) return
    this.ticking = true
    try {
      await this.step()
    } finally {
      this.ticking = false
    }
  }

  private async step(): Promise<void> {
    let head: RecordHead | null
    try {
      head = await this.o.store.head()
      this.storeOk = true
    } catch (err) {
      this.storeOk = false
      this.note(`cannot read the flows record (${this.o.store.describe}): ${errorMessage(err)}`)
      return
    }
    this.lastHead = head
    if (!head) return
    const gen = this.o.generation()
    if (this.applied === head.version && this.appliedGen === gen) return
    const now = this.o.clock.now()
    if (!this.seen.has(head.version)) this.seen = new Map([[head.version, now]])
    let replicaRev: string
    try {
      replicaRev = (await this.o.admin.getFlows()).rev
    } catch {
      return // Node-RED is not up (booting, restarting): the supervisor judges that, not this
    }
    const own = this.own?.version === head.version ? this.own : null
    if (replicaRev === head.rev && (own || head.replica === this.o.replica)) return this.markApplied(head.version, gen)
    // Our own commit: Node-RED is still saving the flows it committed; look again soon.
    if (own && replicaRev === own.previousRev && now - own.at < OWN_SAVE_MS) return
    if (this.o.running() && head.origin === 'api' && now - this.seen.get(head.version)! < (this.o.apiGraceMs ?? API_GRACE_MS)) return
    const full = await this.o.store.read()
    if (!full || full.version !== head.version) return
    const r = full.record
    // Same flows and no credential change: nothing to send.
    if (replicaRev === r.rev && !r.credentialsChanged) return this.markApplied(head.version, gen)
    const started = now
    this.converging = r.rev
    try {
      await this.o.admin.postFlows(r.flows, {
        rev: replicaRev,
        // Node-RED's encrypted form; it decrypts it with the shared credential secret (the wrapper writes it to disk).
        ...(r.credentials ? {credentials: r.credentials as unknown as Credentials} : {}),
        type: r.credentialsChanged ? 'full' : 'nodes',
      })
    } catch (err) {
      if (err instanceof AdminError && err.kind === 'conflict') return // an edit here meanwhile: look again
      this.note(`cannot bring ${this.o.replica} to rev ${r.rev.slice(0, 12)}: ${errorMessage(err)}`)
      return
    } finally {
      this.converging = null
    }
    this.markApplied(head.version, gen)
    this.lastError = ''
    this.o.log('flows-record', {action: 'converged', rev: r.rev.slice(0, 12), version: full.version, from: r.replica, origin: r.origin, previousRev: replicaRev.slice(0, 12), ms: Math.round(this.o.clock.now() - started), running: this.o.running()})
  }

  private markApplied(version: string, gen: unknown): void {
    this.applied = version
    this.appliedGen = gen
  }

  private note(message: string): void {
    if (message !== this.lastError) this.o.log('flows-record', {action: 'error', error: message})
    this.lastError = message
  }
}

/**
 * The flows sync of an agent, or null when its lease backend has no flows record (then Node-RED keeps its
 * own storage: deploys reach one replica, as before). Sets the commit URL in Node-RED's environment.
 */
export async function openFlowsSync(
  config: {replica: string; lease: LeaseConfig; adminToken: string; env: Record<string, string>; timings: {retryPeriodMs: number}},
  statusUrl: string,
  deps: Pick<FlowsSyncOptions, 'admin' | 'log' | 'clock' | 'running' | 'generation'>,
): Promise<FlowsSync | null> {
  let store: FlowsRecordStore | null
  try {
    store = await openFlowsRecordStore(config.lease)
  } catch (err) {
    deps.log('flows-record', {action: 'disabled', error: `cannot open the flows record: ${errorMessage(err)}; Deploys reach this replica only`})
    return null
  }
  if (!store) return null
  try {
    await store.head()
  } catch (err) {
    // Not allowed to read it (a load-balanced pod rendered without the ConfigMap's RBAC): no record here,
    // rather than every Deploy refused. Any other error is the store being away for now: keep it.
    // (`status`: an etcd user whose role does not cover the record's keys, EtcdAnswerError.)
    const e = err as {code?: unknown; statusCode?: unknown; status?: unknown; response?: {statusCode?: unknown}}
    const status = [e?.code, e?.statusCode, e?.status, e?.response?.statusCode].find(v => typeof v === 'number')
    if (status === 401 || status === 403) {
      await store.close()
      deps.log('flows-record', {action: 'disabled', error: `${store.describe}: not allowed (HTTP ${status}); Deploys reach this replica only`})
      return null
    }
  }
  // A cheap local read (sqlite): every 100 ms. An API server (every read is the whole record): at most 1 s.
  const poll = leaseBackend(config.lease.backend).candidatePollMs ?? Math.min(config.timings.retryPeriodMs, 1000)
  config.env[ENV.flowsRecordUrl] = new URL(FLOWS_RECORD_PATH.slice(1), statusUrl).href
  deps.log('flows-record', {action: 'open', store: store.describe})
  return new FlowsSync({replica: config.replica, store, token: config.adminToken, pollMs: Math.max(poll, 100), ...deps})
}
