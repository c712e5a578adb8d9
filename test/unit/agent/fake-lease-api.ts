// A FAKE Kubernetes API server for coordination.k8s.io/v1 Leases: no real API server runs here. It listens on
// 127.0.0.1 and is reached through @kubernetes/client-node's own CoordinationV1Api (its serialiser, its HTTP
// request, its error handling), so the bytes it judges are the bytes a real cluster would get.
//
// It decodes each request body the way the API server does, and each rule names its source:
//  - MicroTime (spec.acquireTime, spec.renewTime): apimachinery pkg/apis/meta/v1/micro_time.go,
//    MicroTime.UnmarshalJSON: JSON null, or a string parsed by time.Parse(RFC3339Micro) with
//    RFC3339Micro = "2006-01-02T15:04:05.000000Z07:00": exactly six fractional digits. Anything else fails
//    the decode.
//  - Time (metadata.creationTimestamp, deletionTimestamp, managedFields[].time): pkg/apis/meta/v1/time.go,
//    Time.UnmarshalJSON: null, or time.Parse(time.RFC3339): seconds required, a fraction of any length allowed.
//  - int32 (spec.leaseDurationSeconds, spec.leaseTransitions are *int32 in k8s.io/api coordination/v1): the
//    apiserver's JSON serializer (apimachinery pkg/runtime/serializer/json/json.go, over sigs.k8s.io/json)
//    refuses a number that is not an integer or does not fit: "json: cannot unmarshal number ... of type int32".
//  - strings (holderIdentity, metadata.name, metadata.resourceVersion): a JSON string, or the decode fails.
//  - A decode failure is 400 BadRequest with the message apiserver pkg/endpoints/handlers/rest.go
//    transformDecodeError builds: `Lease in version "v1" cannot be handled as a Lease: <error>`.
//  - apiVersion/kind must be coordination.k8s.io/v1 Lease (apiserver handlers/update.go and create.go: 400).
//  - After decoding, validation (kubernetes pkg/apis/coordination/validation/validation.go ValidateLeaseSpec):
//    leaseDurationSeconds "must be greater than 0", leaseTransitions "must be greater than or equal to 0";
//    metadata.name a DNS subdomain (apimachinery pkg/api/validation ValidateObjectMeta). Failure: 422 Invalid.
//  - resourceVersion is opaque (apimachinery pkg/apis/meta/v1/types.go ObjectMeta.ResourceVersion: "Clients
//    must treat these values as opaque and passed unmodified back to the server"): this fake hands out
//    versions that are not numbers, so a client that parses or orders them fails here.
//  - Status bodies as apimachinery pkg/api/errors/errors.go builds them: NewNotFound (404 NotFound),
//    NewAlreadyExists (409 AlreadyExists), NewConflict (409 Conflict, "the object has been modified; please
//    apply your changes to the latest version and try again"), NewInvalid (422 Invalid with details.causes),
//    NewBadRequest (400 BadRequest, no details). Field names per pkg/apis/meta/v1/types.go Status,
//    StatusDetails and StatusCause (a cause's type is serialised as "reason").
// Simplifications, each stricter than a real server: a replace WITHOUT a resourceVersion is refused (a real
// one applies it unconditionally; the agent must never write without the version it read), and a version this
// fake never issued is a 409 Conflict. Unknown fields are not judged (a real server drops or warns about them).
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {CoordinationV1Api, KubeConfig} from '@kubernetes/client-node'
import type {LeaseApi} from '../../../src/agent/lease/kubernetes.js'

type Wire = Record<string, any>
const GROUP = 'coordination.k8s.io'
const RESOURCE = `leases.${GROUP}`

/** Go's RFC3339Micro as a pattern: the date, the time, exactly six fractional digits, Z or an offset. */
const MICRO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}(Z|[+-]\d{2}:\d{2})$/
/** Go's time.RFC3339 when parsing: the fraction is optional and of any length. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export class ApiStatus extends Error {
  constructor(readonly code: number, readonly body: Wire) {
    super(body.message)
  }
}

function status(code: number, reason: string, message: string, details?: Wire): ApiStatus {
  return new ApiStatus(code, {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? {details} : {}), code})
}
const notFound = (name: string) => status(404, 'NotFound', `${RESOURCE} "${name}" not found`, {name, group: GROUP, kind: 'leases'})
const alreadyExists = (name: string) => status(409, 'AlreadyExists', `${RESOURCE} "${name}" already exists`, {name, group: GROUP, kind: 'leases'})
const conflict = (name: string) =>
  status(409, 'Conflict', `Operation cannot be fulfilled on ${RESOURCE} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {name, group: GROUP, kind: 'leases'})
const badRequest = (message: string) => status(400, 'BadRequest', message)
function invalid(name: string, causes: {field: string; value: unknown; detail: string}[]): ApiStatus {
  const text = causes.map(c => `${c.field}: Invalid value: ${JSON.stringify(c.value)}: ${c.detail}`)
  return status(422, 'Invalid', `Lease.${GROUP} "${name}" is invalid: ${text.length > 1 ? `[${text.join(', ')}]` : text[0]}`, {
    name,
    group: GROUP,
    kind: 'Lease',
    causes: causes.map((c, i) => ({reason: 'FieldValueInvalid', message: text[i].slice(c.field.length + 2), field: c.field})),
  })
}

/** Why Go's time.Parse refuses the value, or null when it accepts it. */
function timeProblem(value: unknown, micro: boolean): string | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'string') return `json: cannot unmarshal ${typeof value === 'number' ? 'number' : typeof value} into Go value of type string`
  const layout = micro ? '2006-01-02T15:04:05.000000Z07:00' : '2006-01-02T15:04:05Z07:00'
  const m = (micro ? MICRO_TIME : TIME).exec(value)
  if (!m) {
    const frac = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(.*)$/.exec(value)
    const rest = frac ? frac[1] : value
    return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(micro && frac ? '.000000' : 'Z07:00')}`
  }
  const [, y, mo, d, h, mi, s] = m.map(Number)
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return `parsing time ${JSON.stringify(value)}: day, month or time out of range`
  return null
}

function int32Problem(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null
  const goField = `Go struct field LeaseSpec.spec.${field} of type int32`
  if (typeof value !== 'number') return `json: cannot unmarshal ${typeof value} into ${goField}`
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1) return `json: cannot unmarshal number ${value} into ${goField}`
  return null
}

function stringProblem(value: unknown, goField: string): string | null {
  if (value === null || value === undefined || typeof value === 'string') return null
  return `json: cannot unmarshal ${typeof value} into Go struct field ${goField} of type string`
}

/** Decode a Lease body as the API server does: 400 on a decode error, 422 on a validation error. */
export function decodeLease(text: string): Wire {
  let wire: Wire
  try {
    wire = JSON.parse(text)
  } catch (err) {
    throw badRequest(`Lease in version "v1" cannot be handled as a Lease: ${(err as Error).message}`)
  }
  const fail = (problem: string) => badRequest(`Lease in version "v1" cannot be handled as a Lease: ${problem}`)
  if (wire.apiVersion !== `${GROUP}/v1` || wire.kind !== 'Lease') throw badRequest(`the API version in the data (${wire.apiVersion}) does not match the expected API version (${GROUP}/v1)`)
  const meta = wire.metadata ?? {}
  const spec = wire.spec ?? {}
  const problems = [
    stringProblem(meta.name, 'ObjectMeta.metadata.name'),
    stringProblem(meta.resourceVersion, 'ObjectMeta.metadata.resourceVersion'),
    timeProblem(meta.creationTimestamp, false),
    timeProblem(meta.deletionTimestamp, false),
    ...((meta.managedFields ?? []) as Wire[]).map(f => timeProblem(f.time, false)),
    stringProblem(spec.holderIdentity, 'LeaseSpec.spec.holderIdentity'),
    int32Problem(spec.leaseDurationSeconds, 'leaseDurationSeconds'),
    int32Problem(spec.leaseTransitions, 'leaseTransitions'),
    timeProblem(spec.acquireTime, true),
    timeProblem(spec.renewTime, true),
  ].filter((p): p is string => p !== null)
  if (problems.length) throw fail(problems[0])
  const causes: {field: string; value: unknown; detail: string}[] = []
  if (typeof meta.name !== 'string' || meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
    causes.push({field: 'metadata.name', value: meta.name ?? '', detail: 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\''})
  }
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) causes.push({field: 'spec.leaseDurationSeconds', value: spec.leaseDurationSeconds, detail: 'must be greater than 0'})
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) causes.push({field: 'spec.leaseTransitions', value: spec.leaseTransitions, detail: 'must be greater than or equal to 0'})
  if (causes.length) throw invalid(String(meta.name ?? ''), causes)
  return wire
}

/** Times as the API server writes them back: MicroTime with six digits in UTC, Time in whole seconds. */
function encodeMicro(value: string | null | undefined): string | undefined {
  if (!value) return undefined
  const ms = Date.parse(value)
  const micros = value.match(/\.(\d{6})/)?.[1] ?? '000000'
  return `${new Date(ms).toISOString().slice(0, 19)}.${micros}Z`
}

export class FakeLeaseServer {
  private readonly leases = new Map<string, Wire>()
  private server: Server | null = null
  private serial = 0
  /** Every request as it arrived: the verb and the raw body text the client sent. */
  readonly requests: {verb: 'get' | 'create' | 'update'; text?: string; body?: Wire}[] = []
  /** Runs before a create is applied (to make another create win the race in between). */
  beforeCreate: (() => Promise<void>) | null = null
  /** Answer the next request with this HTTP status instead. */
  failNext: number | null = null

  /** Listen on 127.0.0.1 and return a real CoordinationV1Api pointed at it. */
  async start(): Promise<LeaseApi> {
    const server = createServer((req, res) => void this.serve(req, res))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    return leaseApiAt(this.url)
  }

  /** Where it listens (after start): other processes reach it with leaseApiAt(url). */
  get url(): string {
    const {port} = this.server!.address() as AddressInfo
    return `http://127.0.0.1:${port}`
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  /** What is stored, as the JSON a GET returns (for assertions). */
  stored(namespace: string, name: string): Wire | undefined {
    return this.leases.get(`${namespace}/${name}`)
  }

  /** Store a Lease as another client (client-go, kubectl) wrote it: the raw JSON, decoded by the same rules. */
  seed(namespace: string, text: string): void {
    const wire = decodeLease(text)
    this.leases.set(`${namespace}/${wire.metadata.name}`, this.persist(wire, namespace, undefined))
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const send = (code: number, body: Wire) => {
      res.writeHead(code, {'content-type': 'application/json'})
      res.end(JSON.stringify(body))
    }
    try {
      send(...(await this.route(req.method ?? 'GET', req.url ?? '/', text)))
    } catch (err) {
      if (err instanceof ApiStatus) send(err.code, err.body)
      else send(500, status(500, 'InternalError', (err as Error).message).body)
    }
  }

  private async route(method: string, url: string, text: string): Promise<[number, Wire]> {
    const m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/?]+))?(?:\?.*)?$/.exec(url)
    if (!m) throw status(404, 'NotFound', 'the server could not find the requested resource')
    const [, namespace, name] = m
    const verb = method === 'GET' && name ? 'get' : method === 'POST' && !name ? 'create' : method === 'PUT' && name ? 'update' : null
    if (!verb) throw status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
    this.requests.push({verb, ...(text ? {text, body: safeParse(text)} : {})})
    if (this.failNext !== null) {
      const code = this.failNext
      this.failNext = null
      throw status(code, code === 403 ? 'Forbidden' : 'InternalError', `fake failure ${code}`)
    }
    if (verb === 'get') {
      const wire = this.leases.get(`${namespace}/${name}`)
      if (!wire) throw notFound(name)
      return [200, wire]
    }
    const wire = decodeLease(text)
    if (wire.metadata?.namespace && wire.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    if (verb === 'create') {
      if (this.beforeCreate) {
        const hook = this.beforeCreate
        this.beforeCreate = null
        await hook()
      }
      const key = `${namespace}/${wire.metadata.name}`
      if (this.leases.has(key)) throw alreadyExists(wire.metadata.name)
      const stored = this.persist(wire, namespace, undefined)
      this.leases.set(key, stored)
      return [201, stored]
    }
    if (wire.metadata.name !== name) throw badRequest(`the name of the object (${wire.metadata.name}) does not match the name on the URL (${name})`)
    const key = `${namespace}/${name}`
    const current = this.leases.get(key)
    if (!current) throw notFound(name)
    const given = wire.metadata.resourceVersion
    if (!given) throw invalid(name, [{field: 'metadata.resourceVersion', value: '', detail: 'this fake refuses a replace without the resourceVersion that was read'}])
    if (given !== current.metadata.resourceVersion) throw conflict(name)
    const stored = this.persist(wire, namespace, current)
    this.leases.set(key, stored)
    return [200, stored]
  }

  /** The object as stored and returned: server-owned metadata set, times re-encoded as the server writes them. */
  private persist(wire: Wire, namespace: string, current: Wire | undefined): Wire {
    const spec = {...wire.spec}
    for (const field of ['acquireTime', 'renewTime']) {
      const encoded = encodeMicro(spec[field])
      if (encoded) spec[field] = encoded
      else delete spec[field]
    }
    return {
      apiVersion: wire.apiVersion,
      kind: wire.kind,
      metadata: {
        ...wire.metadata,
        namespace,
        uid: current?.metadata.uid ?? `uid-${++this.serial}`,
        creationTimestamp: current?.metadata.creationTimestamp ?? `${new Date().toISOString().slice(0, 19)}Z`,
        // As a real server records each write (server-side field management): a Time in whole seconds, which
        // the client reads into a Date and sends back on its next replace.
        managedFields: [{manager: 'ff-ha', operation: 'Update', apiVersion: wire.apiVersion, time: `${new Date().toISOString().slice(0, 19)}Z`, fieldsType: 'FieldsV1', fieldsV1: {'f:spec': {}}}],
        // Opaque, not a number: clients pass it back unchanged and never compare or parse it.
        resourceVersion: `rv-${(++this.serial).toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      },
      spec,
    }
  }
}

/** A real CoordinationV1Api (@kubernetes/client-node) pointed at a fake server's url. */
export function leaseApiAt(url: string): LeaseApi {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'fake', server: url, skipTLSVerify: true}],
    users: [{name: 'fake', token: 'fake-token'}],
    contexts: [{name: 'fake', cluster: 'fake', user: 'fake'}],
    currentContext: 'fake',
  })
  return kc.makeApiClient(CoordinationV1Api)
}

function safeParse(text: string): Wire | undefined {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
