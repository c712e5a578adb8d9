import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {expandFileArgs, globToRegExp} from '../../../src/lint/glob.js'

describe('globs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-glob-'))
  for (const f of ['a.json', 'b.json', 'c.txt', 'sub/d.json', 'sub/deep/e.json', 'node_modules/x.json']) {
    mkdirSync(join(dir, f, '..'), {recursive: true})
    writeFileSync(join(dir, f), '[]')
  }
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('expands *, ** and {a,b}, relative to the working directory, sorted, without node_modules', () => {
    expect(expandFileArgs(['*.json'], dir)).toEqual(['a.json', 'b.json'])
    expect(expandFileArgs(['**/*.json'], dir)).toEqual(['a.json', 'b.json', 'sub/d.json', 'sub/deep/e.json'])
    expect(expandFileArgs(['sub/**/*.json'], dir)).toEqual(['sub/d.json', 'sub/deep/e.json'])
    expect(expandFileArgs([`${dir}/{a,c}.*`], '/')).toEqual([join(dir, 'a.json'), join(dir, 'c.txt')])
  })

  it('passes literal paths and - through, once each', () => {
    expect(expandFileArgs(['x.json', '-', 'x.json'], dir)).toEqual(['x.json', '-'])
  })

  it('fails on a pattern that matches nothing', () => {
    expect(() => expandFileArgs(['*.yaml'], dir)).toThrow(InputError)
  })

  it('translates ? and [..]', () => {
    expect(globToRegExp('f?[0-9].json').test('fa1.json')).toBe(true)
    expect(globToRegExp('f?[!0-9].json').test('fa1.json')).toBe(false)
  })
})
