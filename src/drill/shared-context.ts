import {request} from 'undici'

// The probe's fenced writes in the shared context store (probe.ts, sharedContextWriter), read through the
// proxy at the start and the end of an iteration: what was written in between, and how many writes the
// fence refused meanwhile. A read that fails gives undefined: the iteration then has no such figures.

export interface ProbeWrites {
  log: string[]
  refused: number
}

export async function readProbeWrites(url: string): Promise<ProbeWrites | undefined> {
  try {
    const res = await request(url, {headersTimeout: 5000, bodyTimeout: 5000})
    if (res.statusCode !== 200) {
      await res.body.dump()
      return undefined
    }
    const body = (await res.body.json()) as Partial<ProbeWrites>
    return Array.isArray(body.log) && typeof body.refused === 'number' ? {log: body.log.map(String), refused: body.refused} : undefined
  } catch {
    return undefined
  }
}

/** The writes of the iteration: the log past its length at the start, the refusals since then. */
export function writesBetween(before: ProbeWrites | undefined, after: ProbeWrites | undefined): ProbeWrites | undefined {
  if (!before || !after) return undefined
  return {log: after.log.slice(before.log.length), refused: after.refused - before.refused}
}
