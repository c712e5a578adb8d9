import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {runCli} from '../drill/helpers.js'

// The CLI's answer to a Compose lease volume on NFS (an override file beside the rendered project): one line
// naming file:line:col, a hint, exit 2, nothing written. The check itself: test/unit/render/lease-volume.test.ts.
const dir = mkdtempSync(join(tmpdir(), 'ff-ha-render-nfs-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('ff-ha render with an NFS lease volume', () => {
  it('refuses: exit 2, one line with the place and a hint, no stack, nothing rendered', async () => {
    writeFileSync(join(dir, 'ff-ha.yaml'), 'name: shop\nmode: hot-spare\n')
    mkdirSync(join(dir, 'deploy'))
    writeFileSync(join(dir, 'deploy', 'compose.override.yaml'), 'volumes:\n  lease:\n    driver_opts:\n      type: nfs\n      device: ":/export"\n')
    const r = await runCli(['render', '--out', 'deploy'], {cwd: dir, tmp: dir})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/compose\.override\.yaml:4:13 volumes\.lease uses driver_opts type nfs/)
    expect(r.stderr).toMatch(/keep the lease volume local/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(readdirSync(join(dir, 'deploy'))).toEqual(['compose.override.yaml'])
  }, 120_000)
})
