import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {rmSync} from 'node:fs'

// Everything a drill starts is registered here: child processes (each in its own process group, so that
// a group kill takes the agent's Node-RED too) and temporary directories. cleanup() kills and removes
// them all, and runs on success, failure and Ctrl-C alike.

export class Resources {
  private readonly children = new Set<ChildProcess>()
  private readonly dirs = new Set<string>()
  private readonly closers: (() => Promise<void> | void)[] = []
  keepDirs = false

  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, {...options, detached: true})
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    // a failure to spawn is reported by the caller through the 'error' event; never crash the drill on it
    child.on('error', () => {})
    return child
  }

  dir(path: string): string {
    this.dirs.add(path)
    return path
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.closers.push(fn)
  }

  /** Pids of the process groups still alive (for the leftover-process check). */
  pids(): number[] {
    return [...this.children].map(c => c.pid).filter((p): p is number => typeof p === 'number')
  }

  async cleanup(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) {
      try {
        await fn()
      } catch {
        // keep cleaning
      }
    }
    await Promise.all([...this.children].map(child => killGroup(child, 3000)))
    if (!this.keepDirs) for (const dir of this.dirs) rmSync(dir, {recursive: true, force: true})
    this.dirs.clear()
  }
}

/** SIGCONT + SIGTERM to the child's process group, SIGKILL after graceMs; resolves when the child exited. */
export function killGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  const pid = child.pid
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    if (pid !== undefined) signalGroup(pid, 'SIGKILL')
    return Promise.resolve()
  }
  return new Promise(resolve => {
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      // whatever it left in its group goes too
      signalGroup(pid, 'SIGKILL')
      resolve()
    })
    signalGroup(pid, 'SIGCONT')
    signalGroup(pid, 'SIGTERM')
  })
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig)
    return true
  } catch {
    return false
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
