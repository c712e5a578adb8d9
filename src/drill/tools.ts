import {accessSync, constants} from 'node:fs'
import {delimiter, join} from 'node:path'
import {runCommandSync} from '../process/run.js'

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
  // some programs print their banner on stderr, or exit non-zero after it (mosquitto -h)
  const r = runCommandSync(program, args, {timeoutMs: 5000})
  return (r.stdout || r.stderr).split('\n')[0].trim() || undefined
}
