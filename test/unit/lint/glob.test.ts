import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {expandFileArgs} from '../../../src/lint/glob.js'

describe('globs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-glob-'))
  for (const f of ['a.json', 'b.json', 'c.txt', 'sub/d.json', 'sub/deep/e.json', 'node_modules/x.json', 'fa1.json', 'fab.json']) {
    mkdirSync(join(dir, f, '..'), {recursive: true})
    writeFileSync(join(dir, f), '[]')
  }
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('expands *, ** and {a,b}, relative to the working directory, sorted, without node_modules', () => {
    expect(expandFileArgs(['*.json'], dir)).toEqual(['a.json', 'b.json', 'fa1.json', 'fab.json'])
    expect(expandFileArgs(['**/*.json'], dir)).toEqual(['a.json', 'b.json', 'fa1.json', 'fab.json', 'sub/d.json', 'sub/deep/e.json'])
    expect(expandFileArgs(['sub/**/*.json'], dir)).toEqual(['sub/d.json', 'sub/deep/e.json'])
    expect(expandFileArgs([`${dir}/{a,c}.*`], '/')).toEqual([join(dir, 'a.json'), join(dir, 'c.txt')])
  })

  it('passes literal paths and - through, once each', () => {
    expect(expandFileArgs(['x.json', '-', 'x.json'], dir)).toEqual(['x.json', '-'])
  })

  it('does not enter node_modules above the working directory either', () => {
    expect(expandFileArgs(['../**/*.json'], join(dir, 'sub'))).not.toContain('../node_modules/x.json')
  })

  it('fails on a pattern that matches nothing', () => {
    expect(() => expandFileArgs(['*.yaml'], dir)).toThrow(InputError)
    expect(() => expandFileArgs(['*.yaml'], dir)).toThrow('*.yaml: no files match this pattern')
  })

  it('translates ? and [..]', () => {
    expect(expandFileArgs(['f?[0-9].json'], dir)).toEqual(['fa1.json'])
    expect(expandFileArgs(['f?[!0-9].json'], dir)).toEqual(['fab.json'])
  })

  it('names the bad character class of an invalid pattern', () => {
    expect(() => expandFileArgs(['x[z-a].json'], dir)).toThrow('x[z-a].json: not a valid pattern (the character class [z-a])')
  })
})
