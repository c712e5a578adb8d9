import type {Command} from '@oclif/core'
import {Help} from '@oclif/core/help'

// Root help that lists every command (topics included: `lint flows` is not hidden under "lint") with its
// one-line summary and its first example, so `ff-ha --help` is a map of the whole tool.
export default class FfHaHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    const bin = this.config.bin
    this.log(`${this.config.pjson.description ?? ''}\n`)
    this.log(`USAGE\n  $ ${bin} COMMAND\n`)
    const commands = this.sortedCommands.filter(c => !c.hidden && !c.pluginName?.startsWith('@oclif/'))
    const width = Math.max(...commands.map(c => displayId(c).length))
    this.log('COMMANDS')
    for (const c of commands) {
      this.log(`  ${displayId(c).padEnd(width)}  ${this.summary(c) ?? ''}`)
      const example = firstExample(c, bin)
      if (example) this.log(`  ${''.padEnd(width)}  $ ${example}`)
    }
    this.log(`\nRun \`${bin} COMMAND --help\` for a command's flags. Also: help, autocomplete.`)
  }
}

function displayId(c: Command.Loadable): string {
  return c.id.replaceAll(':', ' ')
}

function firstExample(c: Command.Loadable, bin: string): string | undefined {
  const raw = c.examples?.[0]
  if (!raw) return undefined
  const text = typeof raw === 'string' ? raw : raw.command
  return text
    .replaceAll('<%= config.bin %>', bin)
    .replaceAll('<%= command.id %>', displayId(c))
    .replace(/^\$\s*/, '')
    .split('\n')[0]
}
