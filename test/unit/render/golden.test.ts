import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {goldenCases} from '../../golden/cases.js'

// Rendered trees compared byte for byte with test/golden/<case>/out. UPDATE_GOLDEN=1 rewrites them (then
// review the diff: it is the change users will see).
const update = process.env.UPDATE_GOLDEN === '1'

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter(e => e.isFile())
    .map(e => relative(dir, join(e.parentPath, e.name)))
    .sort()
}

describe('golden files', () => {
  const cases = goldenCases()
  it('cover every target x mode', () => {
    const combos = new Set(cases.map(c => `${c.profile.target}/${c.profile.mode}`))
    expect([...combos].sort()).toEqual(['compose/hot-spare', 'compose/load-balanced', 'kubernetes/hot-spare', 'kubernetes/load-balanced'])
  })

  for (const c of cases) {
    it(`${c.name}: renders exactly the files in out/`, () => {
      const out = join(c.dir, 'out')
      if (update) {
        rmSync(out, {recursive: true, force: true})
        for (const [path, content] of Object.entries(c.files)) {
          mkdirSync(dirname(join(out, path)), {recursive: true})
          writeFileSync(join(out, path), content)
        }
      }
      expect(Object.keys(c.files).sort()).toEqual(listFiles(out))
      for (const [path, content] of Object.entries(c.files)) {
        expect(content, `${c.name}/out/${path}`).toBe(readFileSync(join(out, path), 'utf8'))
      }
    })
  }

  it('rendering is deterministic: the same profile twice gives identical bytes', () => {
    const [a, b] = [goldenCases(), goldenCases()]
    expect(JSON.stringify(a.map(c => c.files))).toBe(JSON.stringify(b.map(c => c.files)))
  })
})
