import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand, type CommandResult} from '../../base-command.js'
import type {CommandJson} from '../../output/command-json.js'
import {FORMATS, type Format} from '../../lint/reporters/index.js'
import {parseSize} from '../../flows/read.js'
import {runLintFlows} from '../../lint/run.js'
import type {HaMode} from '../../lint/types.js'
import {colourOut} from '../../output/colour.js'
import {MODE_IDS} from '../../modes/index.js'

export default class LintFlows extends BaseCommand {
  static override summary = 'Find HA hazards in Node-RED flows files: implicit state, unsafe context use, work on every replica.'

  static override description = `Reads flows files (a top-level array, or the admin API's {flows, rev}; - for stdin; quoted globs are
expanded) and reports what breaks when the flows run on several replicas. The HA mode decides what is a
hazard: --mode, else the profile's mode (--profile), else load-balanced, the stricter one.

Each finding names the node (file:line:col of its object, id, type, name, tab or subflow), the rule and what
to do. Disabled nodes and tabs are skipped unless --include-disabled. Suppress a finding with a line in
the node's, its group's or its tab's description (info):  ff-ha-lint-disable RULE-ID -- reason

Exit 0 when there are no errors (and warnings within --max-warnings), 1 otherwise, 2 for a missing file,
a file that is not JSON (with its line and column) or not a flows file, a file over --max-size (512 MB by
default; refused from its size, before it is read), or a device such as /dev/zero.`

  static override examples = [
    '<%= config.bin %> lint flows examples/flows.json',
    '<%= config.bin %> lint flows flows.json --mode hot-spare',
    '<%= config.bin %> lint flows "flows/**/*.json" --format sarif --output ff-ha.sarif',
    '<%= config.bin %> lint flows flows.json --fix --share-group nodered --dry-run',
    'curl -s http://127.0.0.1:1880/flows | <%= config.bin %> lint flows - --json',
  ]

  static override strict = false

  static override args = {
    files: Args.string({description: 'Flows files, quoted globs, or - for stdin.', required: false}),
  }

  static override flags = {
    mode: Flags.string({char: 'm', description: 'HA mode to lint for (default: the profile\'s, else load-balanced).', options: [...MODE_IDS]}),
    profile: Flags.string({char: 'p', description: 'HA profile (ff-ha.yaml) to take the mode, mqtt.shareGroup, http.sticky and nodeRed.contextStorage from.'}),
    format: Flags.string({char: 'f', description: 'Report format.', options: [...FORMATS], default: 'stylish'}),
    output: Flags.string({char: 'o', description: 'Write the report to this file instead of stdout.'}),
    'max-warnings': Flags.integer({description: 'Exit 1 when there are more warnings than this.', min: 0}),
    // Non-greedy: `--rule a=off flows.json` must leave flows.json to the file arguments.
    rule: Flags.string({description: 'Set a rule\'s severity: ID=off|info|warning|error (repeatable).', multiple: true, multipleNonGreedy: true}),
    'include-disabled': Flags.boolean({description: 'Lint disabled nodes and tabs too.', default: false}),
    fix: Flags.boolean({description: 'Rewrite fixable findings in place (mqtt in topic -> $share/<group>/<topic>; QoS 1/2 mqtt in -> ff-ha mqtt in; function-node counters -> the shared store\'s atomic increment; an ff-ha singleton after repeating injects), atomically, keeping the file\'s style; list what it could not rewrite.', default: false}),
    'dry-run': Flags.boolean({description: 'With --fix: print the change, write nothing.', default: false}),
    'share-group': Flags.string({description: 'MQTT share group for --fix (default: the profile\'s mqtt.shareGroup, else the flows file name).'}),
    'max-size': Flags.string({description: 'Refuse flows files (and stdin) bigger than this: bytes, or with a unit (600MB, 0.5GB).', default: '512MB'}),
  }

  protected async execute(): Promise<CommandResult<CommandJson['lint flows']>> {
    const {argv, flags} = await this.parse(LintFlows)
    // The profile loader (zod, yaml) only when asked for: most lints have no --profile, and start-up counts.
    const profile = flags.profile ? (await import('../../profile/load.js')).loadProfile(flags.profile) : undefined
    const result = runLintFlows({
      files: argv as string[],
      mode: flags.mode as HaMode | undefined,
      profile,
      format: flags.format as Format,
      output: flags.output,
      maxWarnings: flags['max-warnings'],
      rules: flags.rule,
      includeDisabled: flags['include-disabled'],
      fix: flags.fix,
      dryRun: flags['dry-run'],
      shareGroup: flags['share-group'],
      maxBytes: parseSize(flags['max-size'], '--max-size'),
      colour: colourOut,
      version: this.config.version,
    })
    if (result.stderr) process.stderr.write(result.stderr)
    return {json: result.json, text: result.stdout, exitCode: result.exitCode}
  }
}
