import {Agent, request} from 'undici'
import {now} from '../clock.js'
import type {HttpRecord} from '../types.js'

// Steady HTTP traffic through the proxy to the probe endpoint, every request recorded: send time,
// latency, status and the replica that answered. Requests are sent on schedule whether or not earlier
// ones have answered (a client does not wait for the service to recover before asking again).

export interface HttpTraffic {
  records: HttpRecord[]
  /** Send times of the requests still waiting for an answer. */
  pendingSince(): number[]
  /** Stop sending and wait for the requests in flight. */
  stop(): Promise<void>
}

export function startHttpTraffic(options: {url: string; rate: number; timeoutMs?: number}): HttpTraffic {
  const records: HttpRecord[] = []
  const timeoutMs = options.timeoutMs ?? 2000
  // keep-alive, as a real client would; a new connection per request would measure connect time too
  const dispatcher = new Agent({connections: 64, keepAliveTimeout: 2000, connect: {timeout: timeoutMs}})
  const inFlight = new Map<Promise<void>, number>()
  const target = new URL(options.url)
  const once = () => {
    const t = now()
    const p = (async () => {
      try {
        const res = await request(target, {dispatcher, method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: {'cache-control': 'no-store'}})
        const body = await res.body.text()
        const record: HttpRecord = {t, latencyMs: now() - t, status: res.statusCode, ok: res.statusCode === 200}
        if (record.ok) {
          try {
            const parsed = JSON.parse(body) as {replica?: string; seq?: number}
            record.replica = parsed.replica
            record.seq = parsed.seq
          } catch {
            record.ok = false
            record.error = 'not the probe answer'
          }
        }
        records.push(record)
      } catch (err) {
        records.push({t, latencyMs: now() - t, status: 0, ok: false, error: describe(err)})
      }
    })()
    inFlight.set(p, t)
    void p.finally(() => inFlight.delete(p))
  }
  const timer = setInterval(once, Math.max(1, 1000 / options.rate))
  once()
  return {
    records,
    pendingSince: () => [...inFlight.values()],
    async stop() {
      clearInterval(timer)
      await Promise.allSettled([...inFlight.keys()])
      await dispatcher.close().catch(() => {})
    },
  }
}

function describe(err: unknown): string {
  const e = err as {code?: string; name?: string; message?: string; cause?: {code?: string}}
  return e.code ?? e.cause?.code ?? e.name ?? String(e.message ?? err)
}
