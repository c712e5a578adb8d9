import type {Summary} from './types.js'

/** Nearest-rank percentile (p in 0..100) of values; null for none. Pure. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export function summarize(values: (number | null)[]): Summary {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  return {p50: round(percentile(known, 50)), p95: round(percentile(known, 95)), max: round(known.length ? Math.max(...known) : null)}
}

export function round(v: number | null, digits = 1): number | null {
  if (v === null) return null
  const f = 10 ** digits
  return Math.round(v * f) / f
}
