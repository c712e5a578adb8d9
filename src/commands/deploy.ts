import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand, type CommandResult} from '../base-command.js'
import type {CommandJson} from '../output/command-json.js'
import {DeployFailedError, runDeploy} from '../deploy/run.js'
import {formatDeployReport} from '../deploy/summary.js'
import {makeProgress} from '../output/progress.js'
import {MODE_IDS, STRATEGY_IDS, type DeployStrategy, type ModeId} from '../modes/index.js'
import {ENV} from '../model/env.js'
import {DEFAULT_CLUSTER_FILE} from '../paths.js'

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy a flows file to every replica through the admin API and prove they all run it.'

  static override description = `Reads and lints the flows file (refusing on errors unless --no-lint), preflights every replica (reachable,
authorized, runtime state API on, current rev and state) and changes nothing unless all pass. Hot-spare
(--strategy handover, the default): the spares first (they stay stopped), then the active's agent hands the
lease to an updated spare (the active stops its flows, the spare starts the new ones: a gap like a graceful
failover's, not a full restart's), then the old active, now a spare. A handover needs the agents and their
status token (FF_HA_STATUS_TOKEN); without them the default deploys in place and says why. --strategy
in-place: the spares, then the active's flows restarted in place. Load-balanced: rolling (one at a time, the
next only when the last runs the new rev and is healthy) or parallel. Each POST carries the rev read in
preflight, so a deploy made by someone else in between is a conflict (--force deploys over it). When a
replica fails part-way the replicas already changed are rolled back (--no-rollback keeps them); a handover
that fails after the active stopped its flows is handed back to it first. Once an updated spare serves, the
deploy is not undone: if the old active then fails to take the new flows, it stays a spare with its old ones.

Replicas come from --target, or from the profile: deploy.replicas, Compose (the engine's containers labelled by ff-ha render), Kubernetes
(kubectl, with a port-forward per pod), or the local cluster of \`ff-ha failover-test\` (--discovery local).
The admin token comes from the environment (FF_HA_ADMIN_TOKEN, or --token-env); with --username the
password comes from FF_HA_ADMIN_PASSWORD. A replica without adminAuth (a development instance) needs no
token: pass --no-auth instead of inventing one. The agents' status token, when they have one, comes from
FF_HA_STATUS_TOKEN (or secrets.statusTokenEnv). Secrets never appear in any output.

Node-RED refuses a request larger than its apiMaxLength (HTTP 413; Node-RED's default 5mb, ff-ha render's
nodeRed.apiMaxLength, default 50mb); ff-ha reads answers up to 64 MiB, or 1.25 x the profile's apiMaxLength.`

  static override examples = [
    '<%= config.bin %> deploy flows.json --target http://127.0.0.1:1880/ --target http://127.0.0.1:1881/',
    '<%= config.bin %> deploy --profile ff-ha.yaml --strategy rolling --max-unavailable 1',
    '<%= config.bin %> deploy flows.json --discovery local --strategy handover',
    '<%= config.bin %> deploy flows.json --discovery local --dry-run',
    '<%= config.bin %> deploy flows.json --profile ff-ha.yaml --credentials creds.json --json',
    '<%= config.bin %> deploy flows.json --target http://127.0.0.1:1880/ --no-auth',
  ]

  static override args = {
    flows: Args.string({description: 'Flows file (default: the profile\'s nodeRed.flows).', required: false}),
  }

  static override flags = {
    profile: Flags.string({char: 'p', description: 'HA profile (default: ./ff-ha.yaml when it exists).'}),
    target: Flags.string({char: 't', description: 'Replica admin URL, or name=URL (repeatable). Overrides the profile\'s discovery.', multiple: true}),
    discovery: Flags.string({description: 'Where to find the replicas (default: the profile\'s deploy.discovery or target).', options: ['static', 'compose', 'kubernetes', 'local']}),
    'cluster-file': Flags.string({description: 'Local cluster file written by failover-test (--discovery local).', default: DEFAULT_CLUSTER_FILE}),
    mode: Flags.string({description: 'HA mode (default: the profile\'s, else hot-spare).', options: [...MODE_IDS]}),
    strategy: Flags.string({description: 'How the deploy goes (default: handover for hot-spare, rolling for load-balanced). Hot-spare: handover, in-place, parallel or rolling (the spares so, then the active in place).', options: [...STRATEGY_IDS]}),
    type: Flags.string({description: 'Node-RED deployment type.', options: ['full', 'flows', 'nodes'], default: 'full'}),
    'max-unavailable': Flags.integer({description: 'Rolling: replicas deploying at once.', min: 1, default: 1}),
    credentials: Flags.string({description: 'Node credentials: plaintext JSON by node id (never logged; an encrypted {"$": ...} blob is refused).'}),
    force: Flags.boolean({description: 'Deploy over changes made since preflight (no rev guard, no 409).', default: false}),
    rollback: Flags.boolean({description: 'Roll back the replicas already changed when one fails.', default: true, allowNo: true}),
    lint: Flags.boolean({description: 'Lint the flows for the mode first and refuse on errors.', default: true, allowNo: true}),
    'dry-run': Flags.boolean({description: 'Show, per replica, the nodes that would be added, removed and changed; post nothing.', default: false}),
    'token-env': Flags.string({description: 'Environment variable holding the shared admin token (default: the profile\'s secrets.adminTokenEnv, FF_HA_ADMIN_TOKEN).'}),
    // No env binding: FF_HA_ADMIN_USER is also what the replicas' settings read, and a shell that runs a
    // replica must not silently switch deploy from the token to a login.
    username: Flags.string({description: 'Log in at /auth/token on each replica as this user (password from FF_HA_ADMIN_PASSWORD) instead of the token.'}),
    auth: Flags.boolean({description: 'Send the admin token (or log in). --no-auth: the replicas have no adminAuth (a development instance), send no credentials.', default: true, allowNo: true}),
    'password-env': Flags.string({description: 'Environment variable holding the password for --username.', default: ENV.adminPassword}),
    'ca-file': Flags.string({description: 'CA certificate (PEM) to trust for https:// replicas.'}),
    insecure: Flags.boolean({description: 'Do not verify TLS certificates (explicit opt-in).', default: false}),
    timeout: Flags.integer({description: 'Per-request timeout in ms.', default: 15000, min: 100}),
    'verify-timeout': Flags.integer({description: 'How long to wait for each replica to report the new rev and its state, in ms.', default: 30000, min: 100}),
  }

  protected async execute(): Promise<CommandResult<CommandJson['deploy']>> {
    const {args, flags} = await this.parse(Deploy)
    const report = await runDeploy({
      flowsFile: args.flows,
      profileFile: flags.profile,
      targets: flags.target,
      discovery: flags.discovery as 'static' | 'compose' | 'kubernetes' | 'local' | undefined,
      clusterFile: flags['cluster-file'],
      mode: flags.mode as ModeId | undefined,
      strategy: flags.strategy as DeployStrategy | undefined,
      type: flags.type as 'full' | 'flows' | 'nodes',
      maxUnavailable: flags['max-unavailable'],
      credentialsFile: flags.credentials,
      force: flags.force,
      rollback: flags.rollback,
      lint: flags.lint,
      dryRun: flags['dry-run'],
      tokenEnv: flags['token-env'],
      username: flags.username,
      passwordEnv: flags['password-env'],
      noAuth: !flags.auth,
      client: {caFile: flags['ca-file'], insecure: flags.insecure, requestTimeoutMs: flags.timeout},
      verifyTimeoutMs: flags['verify-timeout'],
      progress: makeProgress(),
    })
    if (!report.ok) throw new DeployFailedError(report)
    return {json: report, text: formatDeployReport(report), exitCode: 0}
  }
}
