import {execFileSync} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import {delimiter, join} from 'node:path'

/** The full path of a program on PATH (or in /usr/sbin, where Debian puts haproxy and mosquitto), or undefined. */
export function which(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const file = join(dir, program)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // next
    }
  }
  return undefined
}

/** First line of `program args` (a version banner), or undefined. */
export function firstLine(program: string, args: string[]): string | undefined {
  try {
    const out = execFileSync(program, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000})
    return out.split('\n')[0].trim() || undefined
  } catch (err) {
    const e = err as {stdout?: string; stderr?: string}
    return (e.stdout || e.stderr || '').split('\n')[0].trim() || undefined
  }
}
