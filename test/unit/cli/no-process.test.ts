// test/unit starts no process: the guard in test/support/no-process.ts turns any spawn into a failure here.
import {execFileSync, spawn} from 'node:child_process'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

describe('a unit test cannot start a process', () => {
  it('child_process and execa throw, naming test/integration', async () => {
    expect(() => spawn(process.execPath, ['-e', '0'])).toThrow(/move it to test\/integration/)
    expect(() => execFileSync(process.execPath, ['-e', '0'])).toThrow(/child_process\.execFileSync/)
    await expect(execa(process.execPath, ['-e', '0'])).rejects.toThrow(/move it to test\/integration/)
  })
})
