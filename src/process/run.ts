import type {ChildProcess} from 'node:child_process'
import {execa, execaSync} from 'execa'

// One way to run a program (execa), for the drill's long-lived processes (agents, HAProxy, Mosquitto),
// its short commands (`ip`, `haproxy -c`, version banners) and the Node-RED launcher's stop. Before this,
// four styles (spawn, promisified execFile, execFileSync, execa) and three kill helpers each had their own
// idea of timeouts, process groups and error words. It lives in src/process/ because drill, nodered and
// deploy use it; it is not drill-specific.


export interface StartOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** 'pipe' to read the output (line by line from child.stdout / child.stderr), default 'ignore'. */
  stdout?: 'pipe' | 'ignore'
  stderr?: 'pipe' | 'ignore'
}

/**
 * Start a long-lived program in a process group of its own (detached), so that stopProcess takes what it
 * started too (an agent's Node-RED). Never rejects: a failure to start shows as an exit (exitCode set)
 * and the 'error' event, which callers may ignore.
 */
export function startProcess(command: string, args: string[], options: StartOptions = {}): ChildProcess {
  const child = execa(command, args, {
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: options.stdout ?? 'ignore',
    stderr: options.stderr ?? 'ignore',
    env: options.env,
    cwd: options.cwd,
    // a group of its own is stopped by stopProcess, not by execa's exit hook
    cleanup: false,
  })
  child.on('error', () => {})
  // execa's subprocess is a ChildProcess with a promise on top; callers need only the former
  return child as unknown as ChildProcess
}

/** Whether the child has exited (or never started). */
export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** Resolves when the child has exited, or with false after timeoutMs. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true)
  return new Promise(resolve => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * SIGCONT + SIGTERM (a stopped process cannot handle SIGTERM), SIGKILL after graceMs; resolves when the
 * child has exited. group: signal the whole process group (a child started by startProcess) and SIGKILL
 * whatever is left in it once the leader is gone.
 */
export async function stopProcess(child: ChildProcess, options: {graceMs?: number; group?: boolean} = {}): Promise<void> {
  const pid = child.pid
  const group = options.group ?? true
  if (pid === undefined) return
  const send = (sig: NodeJS.Signals) => void sendSignal(pid, sig, {group})
  if (!exited(child)) {
    send('SIGCONT')
    send('SIGTERM')
    if (!(await waitForExit(child, options.graceMs ?? 3000))) {
      send('SIGKILL')
      await waitForExit(child, 5000)
    }
  }
  if (group) send('SIGKILL')
}

/** kill(2) that never throws: false when the process (group) is gone. */
export function sendSignal(pid: number, sig: NodeJS.Signals | 0, options: {group?: boolean} = {}): boolean {
  try {
    process.kill(options.group ? -pid : pid, sig)
    return true
  } catch {
    return false
  }
}

/** Whether a process with this pid exists (EPERM: it does, it is only someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as {code?: string}).code === 'EPERM'
  }
}

export interface CommandResult {
  ok: boolean
  stdout: string
  stderr: string
  exitCode?: number
  /** 'ENOENT' when the program is not installed. */
  code?: string
  timedOut: boolean
  /** One line for an error message: the first line of stderr, or what went wrong. */
  why: string
}

/** Run a short command to completion; never rejects (callers turn a failure into their own typed error). */
export async function runCommand(command: string, args: string[], options: {timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string} = {}): Promise<CommandResult> {
  const r = await execa(command, args, {reject: false, stdin: 'ignore', timeout: options.timeoutMs ?? 10_000, env: options.env, cwd: options.cwd})
  return toResult(r)
}

/** runCommand for the few places that must stay synchronous (a version banner while building a report). */
export function runCommandSync(command: string, args: string[], options: {timeoutMs?: number; cwd?: string} = {}): CommandResult {
  return toResult(execaSync(command, args, {reject: false, stdin: 'ignore', timeout: options.timeoutMs ?? 5000, cwd: options.cwd}))
}

function toResult(r: {failed: boolean; stdout?: unknown; stderr?: unknown; exitCode?: number; code?: string; timedOut?: boolean; shortMessage?: string}): CommandResult {
  const stdout = typeof r.stdout === 'string' ? r.stdout : ''
  const stderr = typeof r.stderr === 'string' ? r.stderr : ''
  const why = stderr.split('\n').map(l => l.trim()).find(Boolean) ?? (r.failed ? (r.shortMessage ?? 'failed') : '')
  return {ok: !r.failed, stdout, stderr, exitCode: r.exitCode, code: r.code, timedOut: r.timedOut ?? false, why}
}
