import type {ChildProcess} from 'node:child_process'
import {rmSync} from 'node:fs'
import {startProcess, stopProcess, type StartOptions} from '../process/run.js'

// Everything a drill starts is registered here: child processes (each in its own process group, so that
// a group kill takes the agent's Node-RED too) and temporary directories. cleanup() kills and removes
// them all, and runs on success, failure and Ctrl-C alike.

export class Resources {
  private readonly children = new Set<ChildProcess>()
  private readonly dirs = new Set<string>()
  private readonly closers: (() => Promise<void> | void)[] = []
  keepDirs = false

  spawn(command: string, args: string[], options: StartOptions = {}): ChildProcess {
    const child = startProcess(command, args, options)
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
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
    await Promise.all([...this.children].map(child => stopProcess(child, {graceMs: 3000})))
    if (!this.keepDirs) for (const dir of this.dirs) rmSync(dir, {recursive: true, force: true})
    this.dirs.clear()
  }
}
