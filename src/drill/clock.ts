/** One clock for every record of a drill: epoch ms with sub-ms precision, monotonic within the process. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
