// The lint rule that keeps the error taxonomy (eslint.config.js): in src, no bare Error, no thrown string, no
// class extending Error besides FfHaError. Run through ESLint's own API on samples, the way RuleTester would;
// `npm run check` runs it over the tree.
import {ESLint} from 'eslint'
import {describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'

const eslint = new ESLint({cwd: packageRoot})

async function bareErrorFindings(code: string, filePath = 'src/deploy/sample.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, {filePath: `${packageRoot}/${filePath}`})
  return result.messages.filter(m => m.ruleId === 'no-restricted-syntax').map(m => m.message)
}

describe('no bare Error in src', () => {
  it.each([
    ['throw new Error', "export function f(): never {\n  throw new Error('boom')\n}\n"],
    ['Error() without new', "export function f(): never {\n  throw Error('boom')\n}\n"],
    ['a rejected bare Error', "export const p = Promise.reject(new Error('boom'))\n"],
    ['a thrown string', "export function f(): never {\n  throw 'boom'\n}\n"],
    ['a thrown template string', 'export function f(x: string): never {\n  throw `boom ${x}`\n}\n'],
    ['a class beside the taxonomy', 'export class MyError extends Error {}\n'],
  ])('fires on %s, pointing at src/errors.ts', async (_name, code) => {
    const found = await bareErrorFindings(code)
    expect(found).toHaveLength(1)
    expect(found[0]).toContain('src/errors.ts')
  })

  it('lets the typed errors through', async () => {
    const code = "import {BugError, InputError} from '../errors.js'\nexport function f(x: number): void {\n  if (x < 0) throw new InputError('x: negative', 'give a positive x')\n  if (x > 1e9) throw new BugError('x out of range')\n}\n"
    expect(await bareErrorFindings(code)).toEqual([])
  })

  it('applies to src only: tests may throw a plain Error', async () => {
    expect(await bareErrorFindings("throw new Error('in a test')\n", 'test/unit/sample.test.ts')).toEqual([])
  })
})
