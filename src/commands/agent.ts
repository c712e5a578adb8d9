import * as Flags from '@oclif/core/flags'
import {startAgent} from '../agent/agent.js'
import {resolveAgentConfig} from '../agent/config.js'
import {BaseCommand, type CommandResult} from '../base-command.js'
import type {CommandJson} from '../output/command-json.js'
import {ENV} from '../model/env.js'

export default class Agent extends BaseCommand {
  static override summary = 'Run beside a Node-RED replica: supervise it, hold the lease, start flows only when active.'
  static override description = [
    'The container entrypoint of every replica. Spawns Node-RED (booting with flows stopped), takes part in leader election (hot-spare: a sqlite or kubernetes lease), starts flows only while it holds the lease, stops them at once when it can no longer trust the lease, restarts a crashed or hung Node-RED as a spare, and serves /healthz, /active, /status and /metrics on its own port. One JSON line per event on stdout.',
    'Every flag can also come from the environment (FF_HA_REPLICA, FF_HA_PROFILE, ...). The admin token comes from the variable named by secrets.adminTokenEnv (default FF_HA_ADMIN_TOKEN), the credential secret from secrets.credentialSecretEnv (default FF_HA_CREDENTIAL_SECRET); neither is ever printed, and both are removed from Node-RED\'s environment once its settings.js has read them (flows cannot read them). When the variable named by secrets.statusTokenEnv (default FF_HA_STATUS_TOKEN) is set, /status and /metrics need "Authorization: Bearer <token>"; /healthz and /active stay open for probes and proxies. POST /handover (the active hands its lease to a spare: ff-ha deploy --strategy handover) always needs that token; an agent without one refuses it (403).',
    'SIGTERM hands over: stop flows, release the lease, stop Node-RED, exit 0. Give a Node-RED command after "--" to run it instead of the bundled one.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> agent --replica node-red-1 --profile ff-ha.yaml',
    'FF_HA_REPLICA=node-red-2 FF_HA_USER_DIR=/data <%= config.bin %> agent',
    '<%= config.bin %> agent --replica a --user-dir ./a --node-red-port 1881 --status-port 9881 --lease-file ./lease.db',
    '<%= config.bin %> agent --replica a -- node /usr/src/node-red/node_modules/node-red/red.js --userDir /data',
  ]

  static override strict = false

  static override flags = {
    replica: Flags.string({description: 'This replica\'s name (its lease identity).', env: ENV.replica}),
    profile: Flags.string({description: 'The HA profile (default: ff-ha.yaml if present, else a built-in hot-spare profile).', env: ENV.profile}),
    'user-dir': Flags.string({description: 'Node-RED\'s userDir.', env: ENV.userDir, default: '/data'}),
    'node-red-port': Flags.integer({description: 'Node-RED\'s port (default: the profile\'s http.port).', env: ENV.nodeRedPort, min: 1, max: 65535}),
    'status-port': Flags.integer({description: 'Port of /healthz, /active, /status, /metrics (default: failover.statusPort).', env: ENV.statusPort, min: 1, max: 65535}),
    'status-host': Flags.string({
      description: 'Address the status server listens on (default 127.0.0.1: this host only). Set 0.0.0.0 in a container or pod, where Kubernetes probes and HAProxy reach it on the pod/container address; ff-ha render does.',
      env: ENV.statusHost,
    }),
    'lease-file': Flags.string({description: 'The sqlite lease file (default: failover.leaseFile).', env: ENV.leaseFile}),
    settings: Flags.string({description: 'Node-RED settings.js (default: <userDir>/settings.js if it exists, else rendered there).', env: ENV.settings}),
  }

  protected async execute(): Promise<CommandResult<CommandJson['agent']>> {
    const {flags} = await this.parse(Agent)
    const dashes = this.argv.indexOf('--')
    const command = dashes >= 0 ? this.argv.slice(dashes + 1) : []
    const config = resolveAgentConfig({
      replica: flags.replica,
      profile: flags.profile,
      userDir: flags['user-dir'],
      nodeRedPort: flags['node-red-port'],
      statusPort: flags['status-port'],
      statusHost: flags['status-host'],
      leaseFile: flags['lease-file'],
      settings: flags.settings,
      command,
    })
    const agent = await startAgent(config)
    const onSignal = (signal: NodeJS.Signals) => void agent.stop(signal)
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    // Node-RED shares our process group, so a terminal's SIGINT reaches it too; the agent still drives the order.
    const {reason} = await agent.done
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    return {json: {replica: config.replica, stopped: reason}, exitCode: 0}
  }
}
