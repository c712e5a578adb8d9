// The real CLI, through oclif dev mode (bin/dev.js on src/ via tsx): exit codes, every format, stdin,
// globs, --output, --fix. Each spawn costs about a second, so each one checks several things.
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {repoRoot} from '../../fixtures/flows/corpus.js'

const example = join(repoRoot, 'examples/flows.json')
// tsx by absolute URL: `--import tsx` would resolve from the working directory, and some tests run elsewhere.
const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href
const dir = mkdtempSync(join(tmpdir(), 'ff-ha-lint-cli-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function ffha(args: string[], options: {input?: string; cwd?: string} = {}) {
  return execa(process.execPath, ['--import', tsx, join(repoRoot, 'bin/dev.js'), 'lint', 'flows', ...args], {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    reject: false,
    env: {NO_COLOR: '1', FF_HA_DEBUG: ''},
  })
}

describe('ff-ha lint flows', () => {
  it('stylish (default): findings by line, exit 1 on errors, and says it linted for load-balanced by default', async () => {
    const r = await ffha(['examples/flows.json'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toMatch(/^examples\/flows\.json\n/)
    expect(r.stdout).toMatch(/ {2}\d+:5 +error +mqtt in "temperatures" d1e2f3a4b5c60001 on "Sensors": Subscribes to "sensors\/\+\/temperature".* mqtt-unshared-subscription/)
    expect(r.stdout).toMatch(/ {2}\d+:5 +info +mqtt in "temperatures" d1e2f3a4b5c60001 on "Sensors": Acknowledges each QoS 1 message on arrival.*ff-ha mqtt in.* mqtt-ack-on-arrival/)
    expect(r.stdout).toContain('7 problems (3 errors, 2 warnings, 2 infos) in 1 file; 1 finding suppressed by ff-ha-lint-disable')
    expect(r.stdout).toContain('Linted for load-balanced mode, the stricter one (no --mode or --profile given).')
  })

  it('--mode hot-spare with --max-warnings 0: exit 1 for too many warnings, with the reason on stderr', async () => {
    const r = await ffha([example, '--mode', 'hot-spare', '--max-warnings', '0'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain('0 errors')
    // context-read-modify-write, implicit-state, and mqtt-ack-on-arrival (a warning in hot-spare).
    expect(r.stdout).toMatch(/ {2}\d+:5 +warning +mqtt in "temperatures" .*lost \(the broker will not redeliver them to the new active\).* mqtt-ack-on-arrival/)
    expect(r.stderr).toContain('Too many warnings: 3 (--max-warnings 0).')
  })

  it('--json: the contract shape, with --rule overrides applied', async () => {
    // --rule before the file: the flag must not swallow the file argument.
    const r = await ffha(['--json', '--rule', 'mqtt-unshared-subscription=off', '--rule', 'mqtt-fixed-client-id=warning', '--rule', 'context-read-modify-write=info', example])
    expect(r.exitCode).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json).toMatchObject({mode: 'load-balanced', modeSource: 'default', summary: {errors: 0, suppressed: 1}})
    const ids = json.files[0].findings.map((f: {ruleId: string}) => f.ruleId)
    expect(ids).not.toContain('mqtt-unshared-subscription')
    expect(json.files[0].findings.find((f: {ruleId: string}) => f.ruleId === 'mqtt-fixed-client-id').severity).toBe('warning')
  })

  it('--profile gives the mode and the share group; stdin (-) takes the v2 {flows, rev} shape; --fix --dry-run prints the change', async () => {
    const profile = join(dir, 'ff-ha.yaml')
    writeFileSync(profile, 'name: plant\nmode: load-balanced\nmqtt:\n  shareGroup: line1\n')
    const v2 = JSON.stringify({flows: JSON.parse(readFileSync(example, 'utf8')), rev: 'abc'})
    const r = await ffha(['-', '--profile', profile, '--fix', '--dry-run'], {input: v2})
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain('@@ -:1:')
    expect(r.stdout).toContain('+')
    expect(r.stdout).toContain('"topic":"$share/line1/sensors/+/temperature"')
    expect(r.stdout).toContain('Linted for load-balanced mode (from the profile).')
    // The mqtt in (topic and type) and the repeating inject (an ff-ha singleton after it).
    expect(r.stdout).toMatch(/@@ -:1:\d+ inject [0-9a-f]+ wires, and a new ff-ha singleton [0-9a-f]{16} after it/)
    expect(r.stderr).toContain('Would fix 2 nodes (--dry-run: no file written).')
  })

  it('--fix rewrites the file atomically, keeps everything else, and reports what is left', async () => {
    const target = join(dir, 'fix.json')
    copyFileSync(example, target)
    const before = readFileSync(target, 'utf8')
    // The MQTT fixes alone (the singleton insert is tested in test/unit/lint/fix-state.test.ts).
    const r = await ffha([target, '--fix', '--share-group', 'nodered', '--format', 'json', '--rule', 'timer-every-replica=off'])
    const after = readFileSync(target, 'utf8')
    // Two fixes on the one QoS 1 mqtt in: its topic (shared) and its type (acknowledge after the flow).
    const mqttIn = before.indexOf('"id": "d1e2f3a4b5c60001"')
    const typeAt = before.indexOf('"type": "mqtt in"', mqttIn)
    expect(typeAt).toBeGreaterThan(mqttIn)
    const expected = before.slice(0, typeAt) + before.slice(typeAt).replace('"type": "mqtt in"', '"type": "ff-ha mqtt in"')
    expect(after).toBe(expected.replace('"topic": "sensors/+/temperature"', '"topic": "$share/nodered/sensors/+/temperature"'))
    const json = JSON.parse(r.stdout)
    expect(json.files[0].findings.map((f: {ruleId: string}) => f.ruleId)).not.toContain('mqtt-unshared-subscription')
    expect(json.files[0].findings.map((f: {ruleId: string}) => f.ruleId)).not.toContain('mqtt-ack-on-arrival')
    expect(json.files[0].findings.find((f: {nodeId: string}) => f.nodeId === 'd1e2f3a4b5c60001')).toBeUndefined()
    // Now shared: the join that collects its readings is fed by a spread source, an error.
    expect(json.files[0].findings.find((f: {nodeId: string}) => f.nodeId === 'd1e2f3a4b5c60002').severity).toBe('error')
    expect(r.stderr).toContain('Fixed 1 node.')
  })

  it('quoted globs expand; --format sarif --output writes the file and keeps stdout empty', async () => {
    mkdirSync(join(dir, 'g/sub'), {recursive: true})
    copyFileSync(example, join(dir, 'g/a.json'))
    writeFileSync(join(dir, 'g/sub/b.json'), '[{"id": "t", "type": "tab"}]\n')
    const out = join(dir, 'report.sarif')
    const r = await ffha(['g/**/*.json', '--format', 'sarif', '--output', out], {cwd: dir})
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`Report written to ${out} (sarif).`)
    const sarif = JSON.parse(readFileSync(out, 'utf8'))
    expect(sarif.version).toBe('2.1.0')
    expect(new Set(sarif.runs[0].results.map((x: {locations: Array<{physicalLocation: {artifactLocation: {uri: string}}}>}) => x.locations[0].physicalLocation.artifactLocation.uri))).toEqual(new Set(['g/a.json']))
  })

  it('--format junit and --format github', async () => {
    const [junit, github] = await Promise.all([ffha([example, '--format', 'junit']), ffha([example, '--format', 'github'])])
    expect(junit.stdout).toMatch(/^<\?xml/)
    expect(junit.stdout).toContain('<failure type="error"')
    expect(github.stdout).toMatch(/^::error file=.*examples\/flows\.json,line=\d+,col=5,title=mqtt-fixed-client-id/m)
    expect(github.exitCode).toBe(1)
  })

  it('exit 2 with one line naming file:line:col for a file that is not JSON, a missing file, and no file', async () => {
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, '[\n  {"id": "a", "type": "tab"},\n  {"id": "b" "type": "inject"}\n]\n')
    const [bad, missing, none] = await Promise.all([ffha([broken]), ffha([join(dir, 'nope.json')]), ffha([])])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain(`${broken}:3:14 not JSON: expected ',' or '}' after property value`)
    expect(bad.stderr).not.toMatch(/\n\s+at /)
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('nope.json: no such file')
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toContain('no flows file given')
  })

  it('exit 2 with a hint for every refusal: /dev/zero, a directory, a symlink loop, a file over --max-size, a bad glob class, an unknown --rule, --output over the flows file', async () => {
    mkdirSync(join(dir, 'adir'))
    symlinkSync(join(dir, 'loop2'), join(dir, 'loop1'))
    symlinkSync(join(dir, 'loop1'), join(dir, 'loop2'))
    const flows = join(dir, 'own.json')
    copyFileSync(example, flows)
    const before = readFileSync(flows, 'utf8')
    const cases: Array<[string[], RegExp]> = [
      [['/dev/zero'], /^error \/dev\/zero: is a character device, not a flows file\n/],
      [[join(dir, 'adir')], /adir: is a directory, not a flows file\n/],
      [[join(dir, 'loop1')], /loop1: is a symbolic link that loops/],
      [[flows, '--max-size', '1kB'], /own\.json: \d+(\.\d)? kB, over the 1 kB limit for a flows file\n/],
      [[flows, '--max-size', 'lots'], /--max-size lots: not a size\n/],
      [['x[z-a].json'], /x\[z-a\]\.json: not a valid pattern \(the character class \[z-a\]\)\n/],
      [[flows, '--rule', 'nope=off'], /--rule nope=off: no rule "nope"\n/],
      [[flows, '--output', './own.json'], /--output \.\/own\.json: is the flows file .*own\.json being linted; the report would replace the flows\n/],
    ]
    const results = await Promise.all(cases.map(([args]) => ffha(args, {cwd: dir})))
    results.forEach((r, k) => {
      expect(r.exitCode, cases[k][0].join(' ')).toBe(2)
      expect(r.stderr).toMatch(cases[k][1])
      // One error line and one hint line (execa drops the final line break).
      expect(r.stderr).toMatch(/\nhint {2}\S.*$/)
      expect(r.stderr.split('\n')).toHaveLength(2)
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /)
    })
    expect(readFileSync(flows, 'utf8')).toBe(before)
  })

  it('stdin over --max-size: refused while reading, exit 2', async () => {
    const r = await ffha(['-', '--max-size', '100'], {input: readFileSync(example, 'utf8')})
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/^error stdin \(-\): over the 100 bytes limit for a flows file \(stopped reading there\)\nhint /)
  })

  it("the README's quick start: its first command lints the bundled example and exits 0", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    const block = /## Quick start[\s\S]*?```sh\n([^\n]+)/.exec(readme)?.[1] ?? ''
    // `npm ci && npx ff-ha lint flows ... # comment`: run what follows `npx ff-ha lint flows`.
    const args = /^npm ci && npx ff-ha lint flows (.+?)\s*(#.*)?$/.exec(block)?.[1]
    expect(args, `first quick start line: ${block}`).toBeDefined()
    const r = await ffha(args!.split(/\s+/))
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('examples/flows.json')
    expect(r.stdout).toMatch(/\d+ problems \(0 errors/)
  })
})
