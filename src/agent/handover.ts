import type {IncomingMessage} from 'node:http'

// POST /handover on the agent's status server: the active replica gives its lease to a spare on request
// (a hot-spare deploy hands over to an updated spare; docs/design/handover-deploy.md). The machine does the
// work (invariant 9 of supervisor/machine.ts); this module is the HTTP contract.
//
// Always authenticated by the status token (secrets.statusTokenEnv). An agent without one refuses with 403:
// "loopback only" would not do, because the flows of the Node-RED beside it run on the same host and could
// reach the port (an http request node), and a request that stops the active's flows is not a status read.

/** The request body: all fields optional. */
export interface HandoverRequest {
  /** The replica that should take the lease (a spare with the new flows); none: whichever spare is first. */
  to?: string
  /** Only say whether this agent would hand over now (auth, role): change nothing. */
  dryRun?: boolean
  /** How long to wait for another replica to take the lease after it was given up (default: leaseDuration + 1 s). */
  timeoutMs?: number
}

/** The answer (200 when the lease was given up, 409 when the agent refused, 403/401 for auth). */
export interface HandoverAnswer {
  /** This replica stopped its flows and gave the lease up (or, dryRun, would). */
  handedOver: boolean
  from: string
  to: string | null
  /** Another replica took the lease: a new tenure began (its fencing token is larger than ours was). */
  taken: boolean
  /** Who holds the lease now, as this agent last read it (null: nobody yet). */
  holder: string | null
  fencingToken: number | null
  /** From the request to the answer. */
  ms: number
  dryRun?: boolean
  /** Why not, when handedOver is false. */
  error?: string
}

/** What the status server needs from the agent for this route. */
export interface HandoverSource {
  handover(request: HandoverRequest): Promise<{code: number; body: HandoverAnswer}>
}

const MAX_BODY_BYTES = 4096
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/

/** The route, given whether the caller presented the status token and whether one is configured at all. */
export async function handoverRoute(
  req: IncomingMessage,
  auth: {configured: boolean; authorized: boolean},
  source: Partial<HandoverSource>,
): Promise<{code: number; body: unknown; headers?: Record<string, string>}> {
  if (req.method !== 'POST') return {code: 405, body: {error: 'POST /handover'}, headers: {allow: 'POST'}}
  if (!auth.configured) {
    return {code: 403, body: {error: 'handover is disabled on this agent: it has no status token; set the variable named by secrets.statusTokenEnv (default FF_HA_STATUS_TOKEN) for every agent and for ff-ha deploy'}}
  }
  if (!auth.authorized) return {code: 401, body: {error: 'POST /handover needs the status token: Authorization: Bearer <token>'}, headers: {'www-authenticate': 'Bearer'}}
  if (!source.handover) return {code: 404, body: {error: 'this agent cannot hand over'}}
  const parsed = await readRequest(req)
  if ('error' in parsed) return {code: 400, body: {error: parsed.error}}
  return source.handover(parsed)
}

async function readRequest(req: IncomingMessage): Promise<HandoverRequest | {error: string}> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return {error: `the body is larger than ${MAX_BODY_BYTES} bytes`}
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (!text) return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return {error: 'the body is not JSON: send {"to": "<replica>"} or nothing'}
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {error: 'the body must be a JSON object'}
  const {to, dryRun, timeoutMs} = body as Record<string, unknown>
  if (to !== undefined && to !== null && (typeof to !== 'string' || !NAME.test(to))) return {error: '"to" must be a replica name'}
  if (dryRun !== undefined && typeof dryRun !== 'boolean') return {error: '"dryRun" must be true or false'}
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs <= 600_000)) return {error: '"timeoutMs" must be a number of ms from 0 to 600000'}
  return {...(typeof to === 'string' ? {to} : {}), ...(dryRun !== undefined ? {dryRun} : {}), ...(timeoutMs !== undefined ? {timeoutMs} : {})}
}
