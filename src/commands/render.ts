import * as Flags from '@oclif/core/flags'
import {BaseCommand, type CommandResult} from '../base-command.js'
import type {CommandJson} from '../output/command-json.js'
import {DEFAULT_PROFILE_FILE} from '../profile/load.js'
import {renderFromProfile} from '../render/run.js'

export default class Render extends BaseCommand {
  static override summary = 'Render Compose or Kubernetes manifests from the HA profile.'
  static override description = `Reads ff-ha.yaml and writes every file the profile's target needs into --out: compose.yaml, the replica Dockerfile, haproxy.cfg and settings.js for compose; a StatefulSet, Services, RBAC, a PDB, an Ingress and kustomization.yaml for kubernetes. The output is deterministic, written atomically, and every file carries a generated-by header; stale files with that header are removed, other files are left alone. --check writes nothing and exits 1 when the files on disk differ from what the profile renders. With hosts in the profile (several machines, an etcd lease), one Compose project per host, each in a folder named after the host (or only --host NAME's, at the top of --out).`
  static override examples = [
    '<%= config.bin %> render',
    '<%= config.bin %> render --profile ff-ha.yaml --out deploy',
    '<%= config.bin %> render --check',
    '<%= config.bin %> render --profile ff-ha.yaml --out deploy --host plant-a',
  ]
  static override flags = {
    profile: Flags.string({char: 'p', description: 'The HA profile.', default: DEFAULT_PROFILE_FILE}),
    out: Flags.string({char: 'o', description: 'The directory to render into (a directory of its own).', default: 'deploy'}),
    check: Flags.boolean({description: 'Write nothing; exit 1 listing the files that differ (a drift check for CI).', default: false}),
    host: Flags.string({description: 'With the profile\'s hosts: render only this host\'s Compose project, at the top of --out (default: every host, each in a folder named after it).'}),
  }

  protected async execute(): Promise<CommandResult<CommandJson['render']>> {
    const {flags} = await this.parse(Render)
    const result = renderFromProfile({profileFile: flags.profile, outDir: flags.out, check: flags.check, host: flags.host})
    const differing = result.files.filter(f => f.status !== 'unchanged')
    const warnings = result.warnings.map(w => `warning: ${w}`)
    if (flags.check) {
      const text = differing.length
        ? [`${differing.length} file(s) in ${result.out} differ from what ${result.profile} renders; run \`ff-ha render\`:`, ...differing.map(f => `  ${f.status.padEnd(8)} ${f.path}`)].join('\n')
        : `${result.out} is up to date with ${result.profile} (${result.files.length} files)`
      return {json: result, text: [text, ...warnings].join('\n'), exitCode: differing.length ? 1 : 0}
    }
    const restored = result.recovered ? [`restored ${result.out} from ${result.recovered}, left by an interrupted render`] : []
    const text = restored.join('\n') + (restored.length ? '\n' : '') + (differing.length
      ? [`rendered ${result.target} ${result.mode} into ${result.out}:`, ...differing.map(f => `  ${f.status.padEnd(8)} ${f.path}`)].join('\n')
      : `${result.out} already up to date (${result.files.length} files)`)
    return {json: result, text: [text, ...warnings].join('\n'), exitCode: 0}
  }
}
