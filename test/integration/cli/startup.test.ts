// Start-up: the built CLI (bin/run.js on dist/, with the oclif manifest that `npm run build` writes) loads only
// what the command in hand needs. Counted, not timed: the wall-clock ratio to nrlint is bench/lint/startup.js's.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {repoRoot} from '../../fixtures/flows/corpus.js'

const dir = mkdtempSync(join(tmpdir(), 'ff-ha-startup-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

beforeAll(() => {
  for (const f of ['dist/commands/lint/flows.js', 'oclif.manifest.json']) {
    if (!existsSync(join(repoRoot, f))) throw new Error(`${f} is missing: run \`npm run build\` first (this test runs the built CLI)`)
  }
})

/** Every file a CLI run loads: ESM through a loader hook, CommonJS from require.cache at exit. */
async function modulesLoaded(args: string[]): Promise<{files: string[]; packages: Set<string>; exitCode?: number; stderr: string}> {
  const out = join(dir, `modules-${args.join('-').replace(/[^a-z0-9-]/gi, '_')}.txt`)
  const hook = join(dir, 'count.mjs')
  writeFileSync(hook, [
    "import {register, createRequire} from 'node:module'",
    "import {appendFileSync, writeFileSync} from 'node:fs'",
    'const out = process.env.MODULES_OUT',
    "writeFileSync(out, '')",
    `register('data:text/javascript,' + encodeURIComponent("import {appendFileSync} from 'node:fs'\\nexport async function load(url, ctx, next) { if (url.startsWith('file:')) appendFileSync(process.env.MODULES_OUT, url.slice(7) + '\\\\n'); return next(url, ctx) }"))`,
    'const require = createRequire(import.meta.url)',
    "process.on('exit', () => appendFileSync(out, Object.keys(require.cache).join('\\n') + '\\n'))",
  ].join('\n'))
  const r = await execa(process.execPath, ['--import', pathToFileURL(hook).href, join(repoRoot, 'bin/run.js'), ...args], {
    cwd: repoRoot,
    reject: false,
    // Not vitest's environment: NODE_ENV=test makes oclif map dist/ back to src/ (TypeScript it cannot load).
    extendEnv: false,
    env: {PATH: process.env.PATH, HOME: process.env.HOME, MODULES_OUT: out, NO_COLOR: '1'},
  })
  const files = [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean).map(decodeURIComponent))]
  const packages = new Set(files.map(f => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p): p is string => Boolean(p)))
  return {files, packages, exitCode: r.exitCode, stderr: r.stderr}
}

// What the other commands need (HTTP, Kubernetes, sqlite, MQTT, subprocesses, spinners, profiles, XML).
const HEAVY = ['zod', 'yaml', 'undici', '@kubernetes/client-node', 'kubernetes-models', 'better-sqlite3', 'mqtt', 'pg', 'execa', 'ora', 'xmlbuilder2', 'prom-client', 'p-retry']

describe('start-up loads only what the command needs', () => {
  it('lint flows on a small file: the lint code, none of the heavy libraries of the other commands', async () => {
    const r = await modulesLoaded(['lint', 'flows', 'examples/flows.json'])
    expect(r.exitCode).toBe(1) // the example has findings: the lint really ran
    expect(r.files.some(f => f.endsWith('/dist/lint/engine.js'))).toBe(true)
    expect(HEAVY.filter(p => r.packages.has(p))).toEqual([])
    // The oclif manifest lists the commands: no other command's module is imported to find them.
    expect(r.files.filter(f => f.includes('/dist/commands/')).map(f => f.slice(f.indexOf('/dist/')))).toEqual(['/dist/commands/lint/flows.js'])
  })

  it('lint flows --profile loads the profile loader (zod, yaml) only then', async () => {
    const profile = join(dir, 'ff-ha.yaml')
    writeFileSync(profile, 'name: plant\nmode: hot-spare\n')
    const r = await modulesLoaded(['lint', 'flows', 'examples/flows.json', '--profile', profile, '--json'])
    expect(r.exitCode).toBe(0)
    expect(r.packages.has('zod') && r.packages.has('yaml')).toBe(true)
  })

  it('--help and a command\'s --help import no command module', async () => {
    for (const args of [['--help'], ['deploy', '--help']]) {
      const r = await modulesLoaded(args)
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.files.filter(f => f.includes('/dist/commands/'))).toEqual([])
      expect(HEAVY.filter(p => r.packages.has(p))).toEqual([])
    }
  })
})
