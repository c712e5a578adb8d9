import {existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {CheckFailedError, InputError} from '../../../src/errors.js'
import {packageRoot} from '../../../src/paths.js'
import {renderFromProfile} from '../../../src/render/run.js'
import {writeRender} from '../../../src/render/write.js'
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
    expect(() => writeRender(out, {'compose.yaml': `# ${GENERATED_MARK}\nnew\n`, ['z'.repeat(300)]: 'a name longer than the file system allows: the write fails\n'})).toThrow(/a file name is too long/)
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toBe(before)
    expect(readdirSync(dir).sort()).toEqual(['deploy', 'ff-ha.yaml'])
  })

  it('a symlink at a rendered path is replaced by the file: the file it pointed to, outside the tree, is not written', () => {
    render()
    const outside = join(dir, 'outside.yaml')
    writeFileSync(outside, readFileSync(join(out, 'compose.yaml')))
    const before = readFileSync(outside, 'utf8')
    rmSync(join(out, 'compose.yaml'))
    symlinkSync(outside, join(out, 'compose.yaml'))
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    render()
    expect(readFileSync(outside, 'utf8')).toBe(before)
    expect(lstatSync(join(out, 'compose.yaml')).isFile()).toBe(true)
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toContain('app-2:')
  })

  it('refuses an output directory that is the working directory or holds the profile', () => {
    expect(() => renderFromProfile({profileFile, outDir: dir})).toThrow(/holds the profile|working directory/)
    expect(() => renderFromProfile({profileFile, outDir: '.'})).toThrow(/not the working directory/)
    expect(readdirSync(dir)).toEqual(['ff-ha.yaml'])
  })
})

// ---- a render killed or raced at the dangerous moment: between the two renames of the swap ----

const tsxLoader = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href

// A real render in a child process whose fs.renameSync pauses right after it moved the old tree aside (the
// moment when there is no deploy/ at all), until the test kills it or lets it go on. The hook patches the
// fs module before the renderer loads; nothing in src/ knows about it.
const CHILD = `
import fs from 'node:fs'
import {syncBuiltinESMExports} from 'node:module'
const [pauseFile, resumeFile, profileFile, outDir] = process.argv.slice(2)
const rename = fs.renameSync
fs.renameSync = (from, to) => {
  rename(from, to)
  if (String(to).endsWith('.old') && pauseFile !== '-') {
    fs.writeFileSync(pauseFile, 'paused')
    while (!fs.existsSync(resumeFile)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
}
syncBuiltinESMExports()
const {renderFromProfile} = await import(${JSON.stringify(join(packageRoot, 'src', 'render', 'run.ts'))})
try {
  renderFromProfile({profileFile, outDir})
} catch (err) {
  console.error(err.constructor.name + ': ' + err.message)
  process.exitCode = err.exitCode ?? 99
}
`

function renderChild(profile: string, pause: {pause: string; resume: string} | undefined) {
  const script = join(dir, 'child.mjs')
  writeFileSync(script, CHILD)
  return execa('node', ['--import', tsxLoader, script, pause?.pause ?? '-', pause?.resume ?? '-', profile, out], {reject: false, cwd: dir})
}

async function until(what: string, cond: () => boolean, ms = 60_000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

const leftovers = () => readdirSync(dir).filter(n => n.startsWith('.deploy.'))

describe('render never loses the previous tree or the user\'s files', () => {
  it('a render SIGKILLed between the two renames: --check says so, the next render restores the old tree (with .env) and finishes', async () => {
    render()
    writeFileSync(join(out, '.env'), 'FF_HA_ADMIN_TOKEN=x\n', {mode: 0o600})
    mkdirSync(join(out, 'notes'))
    writeFileSync(join(out, 'notes', 'README'), 'mine\n')
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    const pause = {pause: join(dir, 'paused'), resume: join(dir, 'resume')}
    const child = renderChild(profileFile, pause)
    await until('the child to reach the swap', () => existsSync(pause.pause))
    // The dangerous moment is real: the old tree has been moved aside and the new one is not in place.
    expect(existsSync(out)).toBe(false)
    child.kill('SIGKILL')
    expect((await child).signal).toBe('SIGKILL')

    let checkError: unknown
    try {
      render({check: true})
    } catch (err) {
      checkError = err
    }
    expect(checkError).toBeInstanceOf(CheckFailedError)
    expect((checkError as CheckFailedError).message).toMatch(/a render was interrupted; the previous tree is in .*\.deploy\.ff-ha-tmp-\w{6}\.old$/)
    expect((checkError as CheckFailedError).hint).toContain('ff-ha render')

    const r = render()
    expect(r.recovered).toMatch(/\.deploy\.ff-ha-tmp-\w{6}\.old$/)
    expect(readFileSync(join(out, '.env'), 'utf8')).toBe('FF_HA_ADMIN_TOKEN=x\n')
    expect(statSync(join(out, '.env')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(out, 'notes', 'README'), 'utf8')).toBe('mine\n')
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toContain('app-2:')
    expect(leftovers()).toEqual([])
    expect(render({check: true}).changed).toBe(false)
  })

  it('two renders at once run one after the other: the second waits for the first\'s lock, and .env survives both', async () => {
    render()
    writeFileSync(join(out, '.env'), 'FF_HA_ADMIN_TOKEN=x\n')
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    const second = join(dir, 'second.yaml')
    writeFileSync(second, 'name: app\nreplicas: 4\n')
    const pause = {pause: join(dir, 'paused'), resume: join(dir, 'resume')}
    const a = renderChild(profileFile, pause)
    await until('the first render to reach the swap', () => existsSync(pause.pause))
    const b = renderChild(second, undefined)
    let bDone = false
    void b.then(() => (bDone = true))
    // While the first holds the lock (paused with no deploy/ in place), the second must not touch the tree.
    await new Promise(r => setTimeout(r, 1500))
    expect(bDone).toBe(false)
    expect(existsSync(out)).toBe(false)
    writeFileSync(pause.resume, '')
    const [ra, rb] = await Promise.all([a, b])
    expect([ra.exitCode, ra.stderr]).toEqual([0, ''])
    expect([rb.exitCode, rb.stderr]).toEqual([0, ''])
    expect(readFileSync(join(out, '.env'), 'utf8')).toBe('FF_HA_ADMIN_TOKEN=x\n')
    // The second ran last, on the first's tree.
    expect(readFileSync(join(out, 'compose.yaml'), 'utf8')).toContain('app-3:')
    expect(readFileSync(join(out, 'profile', 'ff-ha.yaml'), 'utf8')).toContain('name: app\nreplicas: 4\n')
    expect(leftovers()).toEqual([])
  })

  it('a render that cannot get the lock fails cleanly (exit 1, a hint) and leaves the tree as it was', () => {
    render()
    writeFileSync(join(out, '.env'), 'FF_HA_ADMIN_TOKEN=x\n')
    const before = tree(out)
    // This test process holds the lock: it is alive, so the lock is not stale.
    const start = readFileSync(`/proc/${process.pid}/stat`, 'utf8')
    const startTime = start.slice(start.lastIndexOf(')') + 2).split(' ')[19]
    writeFileSync(join(dir, '.deploy.ff-ha-lock'), `${process.pid} ${startTime}\n`)
    let error: unknown
    try {
      writeRender(out, {'compose.yaml': `# ${GENERATED_MARK}\nnew\n`}, {lockWaitMs: 200})
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(CheckFailedError)
    expect((error as CheckFailedError).exitCode).toBe(1)
    expect((error as CheckFailedError).message).toMatch(new RegExp(`another ff-ha render \\(pid ${process.pid}\\) is writing it`))
    expect((error as CheckFailedError).hint).toContain('.deploy.ff-ha-lock')
    expect(tree(out)).toEqual(before)
  })

  it('a stale lock (its render was killed) is taken over', async () => {
    const dead = await execa('node', ['-e', 'console.log(process.pid)'])
    writeFileSync(join(dir, '.deploy.ff-ha-lock'), `${dead.stdout.trim()} 1\n`)
    const r = render()
    expect(r.changed).toBe(true)
    expect(leftovers()).toEqual([])
  })

  it('a scratch tree left by a render killed before the swap is removed; the tree stays', () => {
    render()
    writeFileSync(join(out, '.env'), 'x\n')
    mkdirSync(join(dir, '.deploy.ff-ha-tmp-AbC123'))
    writeFileSync(join(dir, '.deploy.ff-ha-tmp-AbC123', 'compose.yaml'), 'half\n')
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    const r = render()
    expect(r.recovered).toBeUndefined()
    expect(readFileSync(join(out, '.env'), 'utf8')).toBe('x\n')
    expect(leftovers()).toEqual([])
  })

  it('an old tree whose swap finished (killed during the cleanup) is removed', () => {
    render()
    mkdirSync(join(dir, '.deploy.ff-ha-tmp-AbC123.old'))
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    render()
    expect(leftovers()).toEqual([])
  })

  it('refuses to guess when a deploy/ was made again after an interrupted swap', () => {
    render()
    mkdirSync(join(dir, '.deploy.ff-ha-tmp-AbC123'))
    mkdirSync(join(dir, '.deploy.ff-ha-tmp-AbC123.old'))
    writeFileSync(join(dir, '.deploy.ff-ha-tmp-AbC123.old', '.env'), 'old\n')
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    expect(() => render()).toThrow(/a render was interrupted and .* was made again since/)
    expect(readFileSync(join(dir, '.deploy.ff-ha-tmp-AbC123.old', '.env'), 'utf8')).toBe('old\n')
  })
})

describe('--out that is not a plain directory', () => {
  const inputError = (fn: () => unknown): InputError => {
    try {
      fn()
    } catch (err) {
      if (err instanceof InputError) return err
      throw err
    }
    throw new Error('accepted')
  }

  it('an existing regular file: exit 2, a hint, the file untouched', () => {
    writeFileSync(out, 'mine\n')
    const err = inputError(() => render())
    expect(err.message).toBe(`--out ${out}: is a file, not a directory`)
    expect(err.hint).toContain('--out')
    expect(readFileSync(out, 'utf8')).toBe('mine\n')
  })

  it('a symlink to a directory: renders into the target, and the link stays a link', () => {
    const real = join(dir, 'real')
    mkdirSync(real)
    writeFileSync(join(real, '.env'), 'x\n')
    symlinkSync(real, out)
    render()
    expect(lstatSync(out).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(real, 'compose.yaml'), 'utf8')).toContain(GENERATED_MARK)
    expect(readFileSync(join(real, '.env'), 'utf8')).toBe('x\n')
    expect(render({check: true}).changed).toBe(false)
    // The same with a trailing slash on --out.
    writeFileSync(profileFile, 'name: app\nreplicas: 3\n')
    renderFromProfile({profileFile, outDir: `${out}/`})
    expect(lstatSync(out).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(real, 'compose.yaml'), 'utf8')).toContain('app-2:')
  })

  it('a symlink to a file or to nothing: exit 2, a hint', () => {
    writeFileSync(join(dir, 'file'), 'x\n')
    symlinkSync(join(dir, 'file'), out)
    expect(inputError(() => render()).message).toMatch(/is a symlink to .*file, which is not a directory$/)
    rmSync(out)
    symlinkSync(join(dir, 'nowhere'), out)
    expect(inputError(() => render()).message).toMatch(/is a symlink to nothing/)
  })

  it('a symlink to the directory holding the profile is refused like the directory itself', () => {
    symlinkSync(dir, out)
    expect(inputError(() => render()).message).toMatch(/holds the profile/)
  })
})
