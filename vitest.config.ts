import {defineConfig} from 'vitest/config'

// Integration tests start real Node-RED processes; the machine has 2 cores, so run files one at a time
// and give them room. Unit tests (test/unit) start no process at all: test/support/no-process.ts makes every
// child_process call throw there, so a test that spawns one fails and names test/integration.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/no-process.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
})
