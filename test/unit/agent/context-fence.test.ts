import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {ContextFence, contextFenceFor} from '../../../src/agent/context-fence.js'
import {parseProfileText} from '../../../src/profile/load.js'

// The agent's half of the shared context's fence, with the plugin's raiseFence replaced by a recorder: the
// order (fence raised, then the token file), once per tenure, and nothing written when the raise fails.
const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach(d => rmSync(d, {recursive: true, force: true})))

function fence(raise: (token: number) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-fence-'))
  dirs.push(dir)
  const file = join(dir, '.ff-ha-context-token')
  return {file, fence: new ContextFence(file, {backend: 'sqlite', path: join(dir, 'c.db'), fenceDomain: 'd'}, (_t, token) => raise(token))}
}

describe('ContextFence', () => {
  it('raises the fence before it writes the token file, once per tenure; clear removes the file', async () => {
    const order: string[] = []
    const {file, fence: f} = fence(async token => void order.push(`raise ${token} file=${existsSync(file)}`))
    await f.arm(3)
    await f.arm(3)
    expect(order).toEqual(['raise 3 file=false'])
    expect(readFileSync(file, 'utf8')).toBe('3\n')
    f.clear()
    expect(existsSync(file)).toBe(false)
    await f.arm(4)
    expect(order).toEqual(['raise 3 file=false', 'raise 4 file=false'])
    expect(readFileSync(file, 'utf8')).toBe('4\n')
  })

  it('a failed raise writes no token and says which store; the next arm tries again', async () => {
    let fail = true
    const {file, fence: f} = fence(async () => {
      if (fail) throw new Error('ECONNREFUSED')
    })
    await expect(f.arm(5)).rejects.toThrow(/cannot raise the shared context's fence to token 5 \(sqlite .*c\.db\): ECONNREFUSED/)
    expect(existsSync(file)).toBe(false)
    fail = false
    await f.arm(5)
    expect(readFileSync(file, 'utf8')).toBe('5\n')
  })

  it('is made only for hot-spare with a shared store; never holds the connection string in its description', () => {
    const lb = parseProfileText('name: s\nmode: load-balanced\nnodeRed:\n  contextStorage: shared\n', 'p')
    expect(contextFenceFor(lb, '/data', {})).toBeNull()
    expect(contextFenceFor(parseProfileText('name: s\n', 'p'), '/data', {})).toBeNull()
    const pg = parseProfileText('name: s\nnodeRed:\n  contextStorage:\n    default: shared\n    shared: {backend: postgres}\n', 'p')
    const f = contextFenceFor(pg, '/data', {FF_HA_CONTEXT_DATABASE_URL: 'postgres://u:pw@h/db'})!
    expect(f.tokenFile).toBe('/data/.ff-ha-context-token')
    expect(f.describe()).toBe('postgres')
  })
})
