'use strict'
// A separate process that works on the shared context store, for the contention and fencing tests and the
// bench. argv[2] is JSON: {config, scope, job, n, key, token?, stopAfterRefused?}. Prints one JSON line with what it saw.
const createStore = require('../nodes/context/store')

async function main() {
  const {config, scope, job, n, key, token, tokenFrom, stopAfterRefused} = JSON.parse(process.argv[2])
  let current = token
  // tokenFrom: a file the parent rewrites, read through the tokenFile seam
  const store = createStore({...config, ...(token !== undefined ? {token: () => current} : {}), ...(tokenFrom ? {tokenFile: tokenFrom} : {})})
  await store.open()
  const atomic = store.get(scope, '$atomic')
  const out = {accepted: 0, refused: 0, errors: []}
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    try {
      if (job === 'increment') await atomic.increment(key, 1)
      else if (job === 'append-token') await atomic.append(key, token ?? 'file')
      else if (job === 'cas-increment') {
        // the optimistic loop a user would write with compareAndSet
        for (;;) {
          const seen = await new Promise((res, rej) => store.get(scope, key, (e, v) => (e ? rej(e) : res(v))))
          if ((await atomic.compareAndSet(key, seen, (seen ?? 0) + 1)).ok) break
        }
      }
      out.accepted++
    } catch (err) {
      if (err.code === 'FF_HA_FENCED' || err.code === 'FF_HA_NO_TOKEN') out.refused++
      else out.errors.push(err.message)
      if (out.errors.length > 3) break
      // a fenced-out writer that keeps trying until it has been refused this often, so the test's writers overlap
      if (stopAfterRefused && out.refused >= stopAfterRefused) break
    }
  }
  out.ms = Number(process.hrtime.bigint() - started) / 1e6
  await store.close()
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch(err => {
  process.stdout.write(JSON.stringify({fatal: err.message}) + '\n')
  process.exitCode = 1
})
