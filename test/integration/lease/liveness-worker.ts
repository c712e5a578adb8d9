// Run by liveness.test.ts in a child process: a replica's agent side that holds its liveness lock (as the
// agent does from its start to its exit), prints one JSON line, and lives until it is killed.
import {LivenessLocks} from '../../../src/agent/lease/liveness.js'
import {errorMessage} from '../../../src/errors.js'

const [leaseFile, identity, covered] = process.argv.slice(2)
const locks = new LivenessLocks(leaseFile, 'test-lease', identity, covered === '1')
try {
  locks.hold()
  const line = JSON.stringify({held: true, file: locks.file, env: locks.childEnv()}) + '\n'
  // Nothing refers to `locks` after this: a full collection (--expose-gc) before we say "held" proves that
  // the lock does not depend on the caller keeping the object alive.
  setImmediate(() => {
    ;(globalThis as {gc?: () => void}).gc?.()
    process.stdout.write(line)
  })
} catch (err) {
  process.stdout.write(JSON.stringify({held: false, error: errorMessage(err)}) + '\n')
  process.exit(1)
}
setInterval(() => undefined, 1 << 30)
