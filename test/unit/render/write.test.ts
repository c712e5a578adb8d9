import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {renderFromProfile} from '../../../src/render/run.js'
import {applyRender, planRender} from '../../../src/render/write.js'
import {GENERATED_MARK} from '../../../src/render/header.js'

let dir: string
let profileFile: string
let out: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-write-'))
  profileFile = join(dir, 'ff-ha.yaml')
  out = join(dir, 'deploy')
  writeFileSync(profileFile, 'name: app\n')
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const render = (extra: object = {}) => renderFromProfile({profileFile, outDir: out, ...extra})
const tree = (d: string) => readdirSync(d, {recursive: true}).map(String).sort()

describe('render writes the tree', () => {
  it('with a generated-by header on every file, and nothing else beside the target when done', () => {
    const r = render()
    expect(r.files.every(f => f.status === 'added')).toBe(true)
    // the one binary file: the npm pack of this ff-ha that the replica image installs (no header possible)
    expect(r.files.map(f => f.path)).toContain('ff-ha/ff-ha-0.1.0.tgz')
    for (const f of r.files.filter(x => !x.path.endsWith('.tgz'))) expect(readFileSync(join(out, f.path), 'utf8').split('\n')[0]).toContain(GENERATED_MARK)
    expect(readdirSync(dir).sort()).toEqual(['deploy', 'ff-ha.yaml'])
    expect(statSync(out).mode & 0o777).toBe(0o755)
  })

  it('again with no change: writes nothing and reports every file unchanged', () => {
    render()
    const mtime = statSync(join(out, 'compose.yaml')).mtimeMs
    const r = render()
    expect(r.changed).toBe(false)
    expect(r.files.every(f => f.status === 'unchanged')).toBe(true)
    expect(statSync(join(out, 'compose.yaml')).mtimeMs).toBe(mtime)
  })

  it('removes stale files that carry the header, keeps the user\'s own files (.env, notes)', () => {
    render()
    writeFileSync(join(out, '.env'), 'FF_HA_ADMIN_TOKEN=x\n')
    mkdirSync(join(out, 'notes'))
    writeFileSync(join(out, 'notes', 'README'), 'mine\n')
    writeFileSync(profileFile, 'name: app\ntarget: kubernetes\n')
    const r = render()
    const removed = r.files.filter(f => f.status === 'removed').map(f => f.path)
    expect(removed).toEqual(['compose.yaml', 'haproxy/haproxy.cfg'])
    expect(existsSync(join(out, 'haproxy'))).toBe(false)
    expect(readFileSync(join(out, '.env'), 'utf8')).toBe('FF_HA_ADMIN_TOKEN=x\n')
    expect(readFileSync(join(out, 'notes', 'README'), 'utf8')).toBe('mine\n')
    expect(tree(out)).toContain('statefulset.yaml')
  })

  it('refuses to overwrite a file it did not write, unless forced', () => {
    mkdirSync(out)
    writeFileSync(join(out, 'compose.yaml'), 'services: {}\n')
    expect(() => render()).toThrow(/compose.yaml exists and was not written by ff-ha render/)
    expect(tree(out)).toEqual(['compose.yaml'])
    render({force: true})
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toContain(GENERATED_MARK)
  })

  it('--check compares and writes nothing', () => {
    expect(render({check: true}).changed).toBe(true)
    expect(existsSync(out)).toBe(false)
    render()
    writeFileSync(join(out, 'compose.yaml'), readFileSync(join(out, 'compose.yaml'), 'utf8') + '# edited\n')
    const before = tree(out)
    const r = render({check: true})
    expect(r.files.filter(f => f.status !== 'unchanged')).toEqual([{path: 'compose.yaml', status: 'changed'}])
    expect(tree(out)).toEqual(before)
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toMatch(/# edited\n$/)
  })

  it('never leaves a half-written tree: a failure part-way keeps the old tree and no temporary directory', () => {
    render()
    const before = readFileSync(join(out, 'compose.yaml'), 'utf8')
    const plan = planRender(out, {'compose.yaml': `# ${GENERATED_MARK}\nnew\n`, ['z'.repeat(300)]: 'a name longer than the file system allows: the write fails\n'})
    expect(() => applyRender(plan)).toThrow()
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toBe(before)
    expect(readdirSync(dir).sort()).toEqual(['deploy', 'ff-ha.yaml'])
  })

  it('refuses an output directory that is the working directory or holds the profile', () => {
    expect(() => renderFromProfile({profileFile, outDir: dir})).toThrow(/holds the profile|working directory/)
    expect(() => renderFromProfile({profileFile, outDir: '.'})).toThrow(/not the working directory/)
    expect(readdirSync(dir)).toEqual(['ff-ha.yaml'])
  })
})
