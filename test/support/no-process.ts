// Unit tests start no process: a test that spawns one (execa, child_process, a worker process, Node-RED,
// Mosquitto, PostgreSQL) belongs in test/integration. vitest.config.ts loads this file for every test file;
// in a test/unit file it makes every child_process entry point throw, so a spawning test fails at once and says
// where it belongs (execa and the src process runner go through child_process too).
import childProcess from 'node:child_process'
import {syncBuiltinESMExports} from 'node:module'
import {expect} from 'vitest'

const testPath = expect.getState().testPath ?? ''
if (/[/\\]test[/\\]unit[/\\]/.test(testPath)) {
  const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const
  for (const name of names) {
    Object.defineProperty(childProcess, name, {
      configurable: true,
      writable: true,
      value: () => {
        throw new Error(`${testPath}: a unit test started a process (child_process.${name}); move it to test/integration (same subfolder)`)
      },
    })
  }
  syncBuiltinESMExports()
}
