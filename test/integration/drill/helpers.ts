import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {packageRoot} from '../../../src/paths.js'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** A scratch directory that also serves as the drill's TMPDIR, so that leftovers can be found by path. */
export function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'ff-ha-drill-test-'))
}

// tsx by absolute URL: the CLI runs with the scratch directory as its cwd
const TSX = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href

/** Run `ff-ha <args>` through oclif's dev mode (dist/ is absent during development). */
export function runCli(args: string[], options: {cwd: string; tmp: string; timeoutMs?: number; env?: Record<string, string>; onSpawn?: (pid: number) => void}): Promise<CliRun> {
  return new Promise(resolve => {
    const child = execFile(
      process.execPath,
      ['--import', TSX, join(packageRoot, 'bin', 'dev.js'), ...args],
      {cwd: options.cwd, env: {...process.env, ...options.env, TMPDIR: options.tmp, NO_COLOR: '1', CI: '1'}, timeout: options.timeoutMs ?? 280_000, maxBuffer: 64 * 1024 * 1024},
      (err, stdout, stderr) => resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr}),
    )
    if (child.pid) options.onSpawn?.(child.pid)
  })
}

/**
 * Write `profile` as ff-ha.yaml in `dir` and run `ff-ha failover-test <args> --json` there; throws, with the
 * CLI's output, when it printed no report.
 */
export async function runDrill(dir: string, profile: string, args: string[], options: {onSpawn?: (pid: number) => void} = {}): Promise<{run: CliRun; json: DrillJson}> {
  writeFileSync(join(dir, 'ff-ha.yaml'), profile)
  const run = await runCli(['failover-test', ...args, '--json'], {cwd: dir, tmp: dir, onSpawn: options.onSpawn})
  let json: DrillJson
  try {
    json = JSON.parse(run.stdout) as DrillJson
  } catch {
    throw new Error(`failover-test printed no JSON (exit ${run.code}): ${run.stderr.slice(-2000)}`)
  }
  if (!json.scenarios) throw new Error(`failover-test failed (exit ${run.code}): ${run.stdout.slice(0, 2000)} ${run.stderr.slice(-1000)}`)
  return {run, json}
}

/** Processes whose command line mentions `path` (the drill's TMPDIR): what a drill must not leave behind. */
export function processesUnder(path: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(path)) out.push(`${pid} ${cmd.slice(0, 160)}`)
    } catch {
      // gone
    }
  }
  return out
}

/** The drill's own temporary directories under `tmp` (ff-ha-drill-*). */
export function drillDirsUnder(tmp: string): string[] {
  return existsSync(tmp) ? readdirSync(tmp).filter(n => n.startsWith('ff-ha-drill-')) : []
}

export function removeScratch(dir: string): void {
  rmSync(dir, {recursive: true, force: true})
}

export interface DrillJson {
  target: string
  mode: string
  proxy: string
  broker: string
  baseline: {coldStartMs: number | null}
  passed: boolean
  scenarios: {
    name: string
    passed: boolean
    skipped?: string
    failures: string[]
    mttrMs: {p50: number | null; p95: number | null; max: number | null}
    detectionMs: {p50: number | null; p95: number | null; max: number | null}
    httpFailed: number
    mqttLost: number
    mqttLostAfterStop: number
    mqttDuplicated: number
    dualActiveMs: number
    iterations: {faulted: string; newActive: string | null; mttrMs: number; dualActiveMs: number; mqttLostAfterStop: number; httpSent: number; mqttSent: number; notes: string[]}[]
  }[]
}
