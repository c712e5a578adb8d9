import ora, {type Ora} from 'ora'
import {colourEnabled} from './colour.js'
import {redact} from './secrets.js'

// Progress goes to stderr: spinners on a TTY, plain lines when piped or in CI, nothing with --json quiet.

export interface Progress {
  start(id: string, text: string): void
  succeed(id: string, text: string): void
  fail(id: string, text: string): void
  info(text: string): void
}

export function makeProgress(options: {quiet?: boolean; stream?: NodeJS.WriteStream} = {}): Progress {
  const stream = options.stream ?? process.stderr
  if (options.quiet) return {start() {}, succeed() {}, fail() {}, info() {}}
  const interactive = Boolean(stream.isTTY) && !process.env.CI && colourEnabled(stream)
  const line = (text: string) => stream.write(redact(text) + '\n')
  if (!interactive) {
    return {
      start: (_id, text) => line(`... ${text}`),
      succeed: (_id, text) => line(`ok  ${text}`),
      fail: (_id, text) => line(`ERR ${text}`),
      info: line,
    }
  }
  const spinners = new Map<string, Ora>()
  return {
    start(id, text) {
      spinners.set(id, ora({text: redact(text), stream}).start())
    },
    succeed(id, text) {
      const s = spinners.get(id)
      if (s) s.succeed(redact(text))
      else line(`ok  ${text}`)
      spinners.delete(id)
    },
    fail(id, text) {
      const s = spinners.get(id)
      if (s) s.fail(redact(text))
      else line(`ERR ${text}`)
      spinners.delete(id)
    },
    info: line,
  }
}
