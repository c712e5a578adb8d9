import {existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'
import {GENERATED_MARK} from '../../../src/render/header.js'

// The real CLI in oclif dev mode (reads src/), run in a scratch directory as a user would.
const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
const bin = join(packageRoot, 'bin', 'dev.js')
let dir: string

function ffha(args: string[], cwd = dir) {
  return execa('node', ['--import', tsx, bin, ...args], {cwd, reject: false, env: {NO_COLOR: '1', FF_HA_DEBUG: ''}, stdin: 'ignore'})
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-cli-'))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('ff-ha init and ff-ha render', () => {
  it('init --yes writes a commented profile with the schema line, renders, and prints the next steps', async () => {
    const r = await ffha(['init', '--yes', '--target', 'compose', '--mode', 'hot-spare', '--replicas', '3', '--name', 'orders', '--flows', 'src/flows.json', '--broker', 'bundled'])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('wrote ff-ha.yaml and rendered 9 files into deploy')
    expect(r.stdout).toContain('docker compose -p orders -f deploy/compose.yaml up -d --build')
    expect(r.stdout).toContain('ff-ha failover-test')
    const profile = readFileSync(join(dir, 'ff-ha.yaml'), 'utf8')
    expect(profile.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=https:\/\/unpkg\.com\/ff-ha@[\d.]+\/schemas\/ff-ha\.schema\.json$/)
    for (const line of ['name: orders', 'mode: hot-spare', 'target: compose', 'replicas: 3', '  flows: "src/flows.json"', '  bundled: true']) expect(profile).toContain(line)
    expect(readdirSync(join(dir, 'deploy')).sort()).toEqual(['.dockerignore', 'Dockerfile', 'compose.yaml', 'ff-ha', 'haproxy', 'mosquitto', 'node-red', 'profile'])
    expect(readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')).toContain(GENERATED_MARK)
  })

  it('render --check is green right after init', async () => {
    const r = await ffha(['render', '--check'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('deploy is up to date with ff-ha.yaml')
  })

  it('editing the profile makes render --check exit 1, listing the files, and write nothing', async () => {
    const file = join(dir, 'ff-ha.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 3', 'replicas: 4'))
    const before = readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')
    const r = await ffha(['render', '--check', '--json'])
    expect(r.exitCode).toBe(1)
    const json = JSON.parse(r.stdout)
    expect(json.changed).toBe(true)
    expect(json.files.filter((f: {status: string}) => f.status !== 'unchanged').map((f: {path: string}) => f.path)).toEqual(['compose.yaml', 'haproxy/haproxy.cfg', 'profile/ff-ha.yaml'])
    expect(readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')).toBe(before)
    const text = await ffha(['render', '--check'])
    expect(text.exitCode).toBe(1)
    expect(text.stdout).toMatch(/changed +compose\.yaml/)
  })

  it('render brings the tree up to date, then --check is green again', async () => {
    const r = await ffha(['render'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('rendered compose hot-spare into deploy')
    expect(readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')).toContain('orders-3:')
    expect((await ffha(['render', '--check'])).exitCode).toBe(0)
  })

  it('init refuses to overwrite the profile without --force (exit 2), and overwrites with it', async () => {
    const r = await ffha(['init', '--yes', '--name', 'other'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('error ff-ha.yaml exists')
    expect(r.stderr).toContain('--force')
    expect(readFileSync(join(dir, 'ff-ha.yaml'), 'utf8')).toContain('name: orders')
    const forced = await ffha(['init', '--yes', '--force', '--name', 'other', '--target', 'kubernetes', '--mode', 'load-balanced'])
    expect(forced.exitCode).toBe(0)
    expect(forced.stdout).toContain('kubectl apply -k deploy')
    expect(existsSync(join(dir, 'deploy', 'compose.yaml'))).toBe(false)
    expect(existsSync(join(dir, 'deploy', 'statefulset.yaml'))).toBe(true)
  })

  it('a bad profile: exit 2, one line with file:line:col and the did-you-mean, no stack, nothing written', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'ff-ha-cli-bad-'))
    try {
      writeFileSync(join(bad, 'ff-ha.yaml'), 'name: app\nmode: hot-spare\nfailover:\n  leaseDurationMs: 1000\n  renewDeadlineMs: 3000\nhttp:\n  stcky: true\n')
      const r = await ffha(['render'], bad)
      expect(r.exitCode).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe('error ff-ha.yaml:7:3 http.stcky: unknown key (did you mean "sticky"?)')
      expect(r.stderr.split('\n')[1]).toBe('hint  rename it to "sticky"')
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(readdirSync(bad)).toEqual(['ff-ha.yaml'])
      writeFileSync(join(bad, 'ff-ha.yaml'), 'name: app\nfailover:\n  leaseDurationMs: 1000\n  renewDeadlineMs: 3000\n')
      const cross = await ffha(['render', '--json'], bad)
      expect(cross.exitCode).toBe(2)
      expect(JSON.parse(cross.stdout).error.message).toBe('ff-ha.yaml:3:20 failover.leaseDurationMs: must be greater than renewDeadlineMs (3000): the holder must give up before others may take over')
      expect(readdirSync(bad)).toEqual(['ff-ha.yaml'])
    } finally {
      rmSync(bad, {recursive: true, force: true})
    }
  })

  it('init on a terminal asks for each choice (a pseudo-terminal from util-linux script), re-asks a bad answer', async () => {
    const tty = mkdtempSync(join(tmpdir(), 'ff-ha-cli-tty-'))
    try {
      const cmd = ['node', '--import', tsx, bin, 'init'].map(a => `'${a}'`).join(' ')
      const child = execa('script', ['-qec', cmd, '/dev/null'], {cwd: tty, reject: false, env: {NO_COLOR: '1'}, stdin: 'pipe'})
      let seen = ''
      child.stdout!.on('data', (d: Buffer) => (seen += d.toString()))
      const answers: [string, string][] = [
        ['Target (compose | kubernetes) [compose]:', 'kube'],
        ['HA mode (hot-spare | load-balanced) [hot-spare]:', 'load'],
        ['Replicas [2]:', '1'],
        ['a whole number from 2 to 20', '3'],
        ['Name [', 'plant'],
        ['Flows file [flows.json]:', ''],
        ['MQTT broker (URL or empty for none):', 'mqtt://broker:1883'],
      ]
      for (const [prompt, answer] of answers) {
        const deadline = Date.now() + 30_000
        while (!seen.includes(prompt) && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
        expect(seen).toContain(prompt)
        child.stdin!.write(answer + '\n')
      }
      const r = await child
      expect(r.exitCode).toBe(0)
      const profile = readFileSync(join(tty, 'ff-ha.yaml'), 'utf8')
      for (const line of ['name: plant', 'mode: load-balanced', 'target: kubernetes', 'replicas: 3', '  broker: "mqtt://broker:1883"']) expect(profile).toContain(line)
      expect(existsSync(join(tty, 'deploy', 'statefulset.yaml'))).toBe(true)
    } finally {
      rmSync(tty, {recursive: true, force: true})
    }
  })

  it('a YAML alias error in the profile: exit 2, file:line:col and a hint, in render, deploy and agent alike (one loader)', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'ff-ha-cli-alias-'))
    try {
      writeFileSync(join(bad, 'ff-ha.yaml'), 'name: *nope\n')
      for (const args of [['render'], ['deploy', 'flows.json', '--profile', 'ff-ha.yaml', '--target', 'http://127.0.0.1:9'], ['agent', '--replica', 'app-0', '--profile', 'ff-ha.yaml']]) {
        const r = await ffha(args, bad)
        expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(2)
        const lines = r.stderr.trim().split('\n')
        // The agent names the profile by its absolute path.
        expect(lines[0]).toMatch(/^error (\/\S+\/)?ff-ha\.yaml:1:7 unresolved alias \*nope: no anchor &nope before it$/)
        expect(lines[1]).toMatch(/^hint {2}define &nope/)
        expect(r.stderr).not.toContain('internal error')
        expect(r.stderr).not.toMatch(/\n\s+at /)
      }
    } finally {
      rmSync(bad, {recursive: true, force: true})
    }
  })

  it('--out a regular file, a symlink to a directory, an immutable parent: one line, exit 2 and a hint, or a render into the link\'s target', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ff-ha-cli-out-'))
    let immutable = ''
    try {
      writeFileSync(join(work, 'ff-ha.yaml'), 'name: app\n')
      writeFileSync(join(work, 'afile'), 'mine\n')
      const file = await ffha(['render', '--out', 'afile'], work)
      expect(file.exitCode).toBe(2)
      expect(file.stderr).toBe('error --out afile: is a file, not a directory\nhint  pass a directory for the rendered files, e.g. --out deploy')
      expect(readFileSync(join(work, 'afile'), 'utf8')).toBe('mine\n')

      mkdirSync(join(work, 'real'))
      symlinkSync('real', join(work, 'link'))
      const link = await ffha(['render', '--out', 'link'], work)
      expect([link.exitCode, link.stderr]).toEqual([0, ''])
      expect(lstatSync(join(work, 'link')).isSymbolicLink()).toBe(true)
      expect(existsSync(join(work, 'real', 'compose.yaml'))).toBe(true)

      immutable = join(work, 'locked')
      mkdirSync(immutable)
      const chattr = await execa('chattr', ['+i', immutable], {reject: false})
      if (chattr.exitCode !== 0) {
        immutable = ''
        throw new Error(`NOT RUN: the immutable-directory case needs chattr as root on ext4-like file systems (${chattr.stderr || chattr.message}); run the suite as root`)
      }
      const locked = await ffha(['render', '--out', 'locked/deploy'], work)
      expect(locked.exitCode).toBe(2)
      const lines = locked.stderr.trim().split('\n')
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatch(/^error --out locked\/deploy: cannot write there: operation not permitted \(an immutable directory\? see lsattr\)/)
      expect(lines[1]).toMatch(/^hint {2}render into a directory you can write/)
    } finally {
      if (immutable) await execa('chattr', ['-i', immutable], {reject: false})
      rmSync(work, {recursive: true, force: true})
    }
  })
})

