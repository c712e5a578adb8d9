// Reading flows inputs with a size cap: a big file is refused from its size before it is read, a device
// from what it is, a pipe or stdin as soon as it passes the cap; each with one line and a hint (exit 2).
import {execFileSync, spawnSync} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, ftruncateSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {readFlowsFile} from '../../../src/flows/parse.js'
import {DEFAULT_MAX_BYTES, formatBytes, parseSize, readFlowsInput} from '../../../src/flows/read.js'
import {repoRoot} from '../../fixtures/flows/corpus.js'

const dir = mkdtempSync(join(tmpdir(), 'ff-ha-read-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).hint, (err as Error).message).toBeTruthy()
    return err as InputError
  }
  throw new Error('expected an InputError')
}

describe('readFlowsInput', () => {
  it('refuses a sparse 3 GB file from its size, without reading it', () => {
    const p = join(dir, 'sparse.json')
    const fd = openSync(p, 'w')
    ftruncateSync(fd, 3e9)
    closeSync(fd)
    const before = process.memoryUsage().rss
    const err = inputError(() => readFlowsFile(p))
    expect(err.message).toBe(`${p}: 3 GB, over the 512 MB limit for a flows file`)
    // Over what Node.js can hold as one string: raising the cap cannot help, so the hint says to split.
    expect(err.hint).toMatch(/split the flows/)
    // Nothing of it was read: memory did not grow by anything near the file.
    expect(process.memoryUsage().rss - before).toBeLessThan(100e6)
  })

  it('a lower cap refuses a small file; a file at the cap is read', () => {
    const p = join(dir, 'small.json')
    writeFileSync(p, '[{"id":"a","type":"tab"}]')
    const small = inputError(() => readFlowsInput(p, {maxBytes: 10, limitFlag: '--max-size'}))
    expect(small.message).toMatch(/small\.json: 25 bytes, over the 10 bytes limit/)
    expect(small.hint).toMatch(/raise the limit .*: --max-size 536MB$/)
    expect(readFlowsInput(p, {maxBytes: 25})).toBe('[{"id":"a","type":"tab"}]')
    // Callers without a flag to raise it (deploy, failover-test) get a hint that names none.
    expect(inputError(() => readFlowsInput(p, {maxBytes: 10})).hint).toBe('flows files over 10 bytes are not read: split the flows into several files, for example one export per tab')
  })

  it('refuses /dev/zero (a character device) at once, with a hint to pipe the flows instead', () => {
    const err = inputError(() => readFlowsFile('/dev/zero'))
    expect(err.message).toBe('/dev/zero: is a character device, not a flows file')
    expect(err.hint).toMatch(/lint flows -/)
  })

  it('names a directory and a symlink loop, each with a hint', () => {
    expect(inputError(() => readFlowsFile(dir)).message).toMatch(/is a directory, not a flows file$/)
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'))
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'))
    expect(inputError(() => readFlowsFile(join(dir, 'loop-a'))).message).toMatch(/loop-a: is a symbolic link that loops/)
    expect(inputError(() => readFlowsFile(join(dir, 'nope.json'))).message).toMatch(/nope\.json: no such file$/)
    writeFileSync(join(dir, 'plain'), '[]')
    expect(inputError(() => readFlowsFile(join(dir, 'plain', 'x.json'))).message).toMatch(/not a directory/)
  })

  it('stdin (-) and pipes are read with the same cap, and stop as soon as they pass it', () => {
    // A child process reads from an endless pipe (yes) with a 1 MB cap: it must end, refusing, not hang.
    const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href
    const script = `import {readFlowsInput} from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/flows/read.ts')).href)}
try { readFlowsInput('-', {maxBytes: 1e6}) } catch (e) { console.log(e.constructor.name + ': ' + e.message) }`
    const r = spawnSync('sh', ['-c', `yes '[{}]' | "${process.execPath}" --import ${tsx} --input-type=module -e "$0"`, script], {encoding: 'utf8', timeout: 60_000})
    expect(r.stdout.trim()).toBe('InputError: stdin (-): over the 1 MB limit for a flows file (stopped reading there)')
    const ok = execFileSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', `import {readFlowsInput} from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/flows/read.ts')).href)}; process.stdout.write(readFlowsInput('-'))`], {input: '[{"id":"a"}]', encoding: 'utf8'})
    expect(ok).toBe('[{"id":"a"}]')
  })
})

describe('sizes', () => {
  it('parses sizes with units and refuses what is not one, or is over what Node.js can hold as a string', () => {
    expect(parseSize('512MB')).toBe(DEFAULT_MAX_BYTES)
    expect(parseSize('0.5 gb')).toBe(5e8)
    expect(parseSize('800k')).toBe(800_000)
    expect(parseSize('1MiB')).toBe(2 ** 20)
    expect(parseSize('1000')).toBe(1000)
    expect(inputError(() => parseSize('lots')).message).toBe('--max-size lots: not a size')
    expect(inputError(() => parseSize('0')).message).toMatch(/at least 1 byte/)
    expect(inputError(() => parseSize('2GB')).message).toMatch(/longest string Node.js can hold/)
    expect(formatBytes(3e9)).toBe('3 GB')
  })
})
