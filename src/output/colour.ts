import {Chalk, type ChalkInstance} from 'chalk'

// chalk 5 ignores NO_COLOR, so the decision is ours: colour only on a TTY, never with NO_COLOR (any value,
// per no-color.org), never in CI, and FORCE_COLOR=0 turns it off too.
export function colourEnabled(stream: NodeJS.WriteStream = process.stderr, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR === '0') return false
  if (env.CI && env.CI !== 'false') return false
  return Boolean(stream.isTTY)
}

export function makeChalk(stream: NodeJS.WriteStream = process.stderr): ChalkInstance {
  return new Chalk({level: colourEnabled(stream) ? 1 : 0})
}

/** Colours for stderr (human messages, progress). */
export const colour = makeChalk(process.stderr)
/** Colours for stdout (data). Off whenever stdout is piped. */
export const colourOut = makeChalk(process.stdout)
