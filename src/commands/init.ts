import {basename} from 'node:path'
import {createInterface} from 'node:readline/promises'
import * as Flags from '@oclif/core/flags'
import {BaseCommand, type CommandResult} from '../base-command.js'
import type {CommandJson} from '../output/command-json.js'
import {InputError} from '../errors.js'
import {DEFAULT_PROFILE_FILE} from '../profile/load.js'
import type {InitChoices} from '../profile/template.js'
import {initProject} from '../render/init.js'
import {DEFAULT_MODE, MODE_IDS} from '../modes/index.js'

const TARGETS = ['compose', 'kubernetes'] as const

export default class Init extends BaseCommand {
  static override summary = 'Write an HA profile (ff-ha.yaml) and render its manifests.'
  static override description = `On a terminal, asks for the profile's main choices (target, mode, replicas, name, flows file, broker); with --yes, or when stdin is not a terminal, takes them from the flags (defaults for the rest). Writes ff-ha.yaml with a comment for each section and the schema line for editors, renders the manifests into --out, and prints the next steps. Refuses to overwrite an existing profile or a non-empty --out without --force.`
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --yes --target compose --mode hot-spare --name orders --broker bundled',
    '<%= config.bin %> init --yes --target kubernetes --mode load-balanced --replicas 3 --name orders --broker mqtt://broker:1883',
  ]
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Take the choices from the flags; ask nothing.', default: false}),
    target: Flags.string({description: 'Where the replicas run.', options: [...TARGETS]}),
    mode: Flags.string({description: 'The HA mode.', options: [...MODE_IDS]}),
    replicas: Flags.integer({description: 'How many replicas (at least 2).', min: 2, max: 20}),
    name: Flags.string({description: 'The set-up\'s name (a DNS-1123 label); default: the directory\'s name.'}),
    flows: Flags.string({description: 'The flows file that `ff-ha deploy` sends.'}),
    broker: Flags.string({description: 'The MQTT broker URL, or "bundled" for a Mosquitto service (compose).'}),
    profile: Flags.string({char: 'p', description: 'Where to write the profile.', default: DEFAULT_PROFILE_FILE}),
    out: Flags.string({char: 'o', description: 'The directory to render into.', default: 'deploy'}),
    force: Flags.boolean({description: 'Overwrite an existing profile and render over a non-empty --out.', default: false}),
  }

  protected async execute(): Promise<CommandResult<CommandJson['init']>> {
    const {flags} = await this.parse(Init)
    const defaults: InitChoices = {
      target: (flags.target as InitChoices['target']) ?? 'compose',
      mode: (flags.mode as InitChoices['mode']) ?? DEFAULT_MODE,
      replicas: flags.replicas ?? 2,
      name: flags.name ?? defaultName(),
      flows: flags.flows ?? 'flows.json',
      broker: flags.broker,
    }
    const choices = !flags.yes && process.stdin.isTTY ? await ask(defaults) : defaults
    const result = initProject({choices, profileFile: flags.profile, outDir: flags.out, force: flags.force})
    const text = [
      `wrote ${result.profile} and rendered ${result.files.length} files into ${result.out}`,
      '',
      'next steps:',
      ...result.nextSteps.map((s, i) => `  ${i + 1}. ${s}`),
    ].join('\n')
    return {json: result, text, exitCode: 0}
  }
}

/** The working directory's name as a DNS-1123 label, else "node-red-ha". */
function defaultName(): string {
  const name = basename(process.cwd()).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40)
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) ? name : 'node-red-ha'
}

async function ask(d: InitChoices): Promise<InitChoices> {
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const pick = async <T extends string>(question: string, options: readonly T[], def: T): Promise<T> => {
      for (;;) {
        const a = (await rl.question(`${question} (${options.join(' | ')}) [${def}]: `)).trim()
        if (!a) return def
        const found = options.find(o => o === a || o.startsWith(a))
        if (found) return found
        process.stderr.write(`  one of: ${options.join(', ')}\n`)
      }
    }
    const target = await pick('Target', TARGETS, d.target)
    const mode = await pick('HA mode', MODE_IDS, d.mode)
    let replicas = d.replicas
    for (;;) {
      const a = (await rl.question(`Replicas [${d.replicas}]: `)).trim()
      if (!a) break
      const n = Number(a)
      if (Number.isInteger(n) && n >= 2 && n <= 20) {
        replicas = n
        break
      }
      process.stderr.write('  a whole number from 2 to 20\n')
    }
    const name = (await rl.question(`Name [${d.name}]: `)).trim() || d.name
    const flows = (await rl.question(`Flows file [${d.flows}]: `)).trim() || d.flows
    const brokerHint = target === 'compose' ? 'URL, "bundled" or empty for none' : 'URL or empty for none'
    const broker = (await rl.question(`MQTT broker (${brokerHint})${d.broker ? ` [${d.broker}]` : ''}: `)).trim() || d.broker
    return {target, mode, replicas, name, flows, broker: broker || undefined}
  } catch (err) {
    if ((err as {code?: string}).code === 'ABORT_ERR') throw new InputError('init cancelled', 'run `ff-ha init` again, or pass --yes with flags to answer nothing')
    throw err
  } finally {
    rl.close()
  }
}
