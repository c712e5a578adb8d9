import {describe, expect, it} from 'vitest'
import {now} from '../../../src/drill/clock.js'
import {waitServed} from '../../../src/drill/iteration.js'
import type {HttpTraffic} from '../../../src/drill/traffic/http.js'
import type {HttpRecord} from '../../../src/drill/types.js'

// "Clients are served again" decides when an iteration stops its traffic. With two servers behind the
// proxy (load-balanced), the live one answers at once while requests sent to a dead one hang: ten good
// answers in a row must not count while a request has been waiting for more than a second.
function traffic(records: HttpRecord[], pending: number[]): HttpTraffic {
  return {records, pendingSince: () => pending, stop: async () => {}}
}

describe('waitServed', () => {
  const faultAt = now() - 2000
  const good = Array.from({length: 10}, (_, i): HttpRecord => ({t: faultAt + 1000 + i * 50, latencyMs: 3, status: 200, ok: true}))

  it('is served when the last ten answers are good and nothing waits', async () => {
    await expect(waitServed(traffic(good, []), faultAt, 500)).resolves.toBeUndefined()
  })

  it('is not served while a request sent more than a second ago still waits, however good the answers', async () => {
    await expect(waitServed(traffic(good, [now() - 1500]), faultAt, 500)).rejects.toThrow(/clients served again after the fault: not within 500 ms/)
    // a request sent just now is not a sign of trouble
    await expect(waitServed(traffic(good, [now()]), faultAt, 500)).resolves.toBeUndefined()
  })
})
