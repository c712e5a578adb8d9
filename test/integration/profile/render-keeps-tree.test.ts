// A bad profile leaves an existing rendered tree as it was. Here, not in test/unit: rendering a Compose
// profile runs `npm pack` (the replica image's build context), a process.
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {renderFromProfile} from '../../../src/render/run.js'

describe('render writes nothing for a bad profile', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach(d => rmSync(d, {recursive: true, force: true})))

  it('an existing tree stays as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bad-'))
    dirs.push(dir)
    const profileFile = join(dir, 'ff-ha.yaml')
    writeFileSync(profileFile, 'name: app\n')
    renderFromProfile({profileFile, outDir: join(dir, 'deploy')})
    const before = readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')
    writeFileSync(profileFile, 'name: app\nreplicas: 3\nhttp: {stiky: true}\n')
    expect(() => renderFromProfile({profileFile, outDir: join(dir, 'deploy')})).toThrow(/3:8 http.stiky: unknown key/)
    expect(readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')).toBe(before)
    expect(readdirSync(dir).sort()).toEqual(['deploy', 'ff-ha.yaml'])
  })
})
