// `ff-ha agent` with a bad address or a busy port: one line naming what is wrong, a hint about the right
// flag, the right exit code, no stack trace.
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'

const run = promisify(execFile)

describe('ff-ha agent: address and port errors', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ff-ha-agent-cli-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const agent = (...args: string[]) =>
    run(process.execPath, [join(packageRoot, 'bin', 'run.js'), 'agent', '--replica', 'a', '--user-dir', join(dir, 'ud'), '--lease-file', join(dir, 'lease.db'), ...args], {
      cwd: dir,
      env: {PATH: process.env.PATH ?? '', NO_COLOR: '1', FF_HA_ADMIN_TOKEN: 'agent-cli-token-123', FF_HA_CREDENTIAL_SECRET: 'agent-cli-secret-123'},
      timeout: 30_000,
    }).then(
      r => ({code: 0, stderr: r.stderr}),
      e => ({code: e.code as number, stderr: String(e.stderr)}),
    )

  it('--status-host "not a host": exit 2, the hint is about the address, not the port', async () => {
    const r = await agent('--status-host', 'not a host')
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('error --status-host "not a host": not an IP address or host name\nhint  an IP address such as 127.0.0.1 (this host only) or 0.0.0.0 (every interface), or a host name\n')
  })

  it('--status-host with no such interface: the hint is about the address', async () => {
    const r = await agent('--status-host', '192.0.2.77', '--status-port', '39871')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error a: cannot serve the status endpoints on 192\.0\.2\.77:39871 \(EADDRNOTAVAIL\)\nhint {2}no interface of this host has that address/)
  })

  describe('a port in use', () => {
    let busy: Server
    afterEach(() => new Promise(r => busy.close(r)))
    it('the hint is about the port', async () => {
      busy = createServer()
      await new Promise<void>(r => busy.listen(0, '127.0.0.1', r))
      const port = (busy.address() as {port: number}).port
      const r = await agent('--status-port', String(port))
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`^error a: cannot serve the status endpoints on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)\\nhint {2}another process listens on that port: choose a free --status-port\\n$`))
    })
  })
})
