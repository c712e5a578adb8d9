import {defineConfig} from 'vitest/config'

// Integration tests start real Node-RED processes; the machine has 2 cores, so run files one at a time
// and give them room. Unit tests are fast either way.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
})
