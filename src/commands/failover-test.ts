import * as Flags from '@oclif/core/flags'
import {BaseCommand, type CommandResult} from '../base-command.js'
import type {CommandJson} from '../output/command-json.js'
import {CheckFailedError} from '../errors.js'
import {runFailoverTest} from '../drill/failover-test.js'
import {Resources} from '../drill/processes.js'
import {drillJson} from '../drill/report/json.js'
import {drillTable} from '../drill/report/table.js'
import {makeProgress} from '../output/progress.js'
import {DEFAULT_CLUSTER_FILE} from '../paths.js'

export default class FailoverTest extends BaseCommand {
  static override summary = 'Run failover drills (crash, replica-crash, hang, freeze, partition, host-loss, graceful, deploy; etcd faults on --target hosts) under live traffic and measure MTTR and loss.'

  static override description = `Stands up the profile's replicas locally (ff-ha agents with real Node-RED, a sqlite lease, HAProxy with
the rendered haproxy.cfg or a built-in proxy, Mosquitto when on PATH), or attaches to a running Compose or
Kubernetes set-up, deploys the flows plus a probe tab, breaks the active replica in each scenario while
HTTP and MQTT QoS 1 traffic flows, and reports detection time, MTTR as clients see it, failed requests,
lost and duplicated messages, and time with two replicas running flows, beside the cold start of the same
Node-RED. Exit 1 when the profile's SLO (slo.maxMttrMs, maxLostMessages, maxDualActiveMs) is missed.

Scenarios: crash (SIGKILL Node-RED), replica-crash (the whole replica at once: SIGKILL agent and Node-RED,
docker kill on compose; the takeover waits for the lease to expire), hang (SIGSTOP Node-RED), freeze
(SIGSTOP agent and Node-RED, docker pause on compose; then SIGCONT), partition (the replica's network
namespace cut off; needs root), graceful (SIGTERM the agent, docker stop), deploy (ff-ha deploy of a
changed flows file), host-loss (--target hosts: the active's host lost at once: its agent, Node-RED and etcd
member killed and its link cut). With no --profile and no ff-ha.yaml: a local hot-spare set of two replicas. --target hosts (root, iproute2, etcd) runs three hosts in network namespaces on a bridge: an
etcd member on each, agents with Node-RED on hosts 0 and 1 holding the etcd lease, host 2 the witness; its
own scenarios: etcd-leader-kill, etcd-member-partition (the witness host cut off), etcd-outage (every
member stopped for less than the renew deadline) and etcd-outage-long (past the renew deadline, short of
the lease). Every target lists every fault class, or says why one cannot run there.
--target compose finds the replicas of a running rendered project by their labels (Compose v2 or
docker-compose 1.29), defaults --url to its HAProxy on 127.0.0.1 and --mqtt-url to its bundled broker.`

  static override examples = [
    '<%= config.bin %> failover-test',
    '<%= config.bin %> failover-test --scenario crash,hang --iterations 5 --report drill.html',
    '<%= config.bin %> failover-test --profile ff-ha.yaml --flows flows.json --junit drill.xml --json',
    '<%= config.bin %> failover-test --target compose --profile ff-ha.yaml',
    '<%= config.bin %> failover-test --target hosts --scenario partition,host-loss,etcd-leader-kill',
  ]

  static override flags = {
    profile: Flags.string({char: 'p', description: 'HA profile (default: ./ff-ha.yaml, else a local hot-spare set of two).', env: 'FF_HA_PROFILE'}),
    flows: Flags.string({description: 'Flows file to deploy beside the probe tab (default: the bundled example).'}),
    target: Flags.string({description: 'Run locally, on three hosts in network namespaces with an etcd lease (hosts, as root), or attach to a running Compose / Kubernetes set-up.', options: ['local', 'hosts', 'compose', 'kubernetes'], default: 'local'}),
    scenario: Flags.string({char: 's', description: 'Comma-separated scenarios, or "all" (all this machine can run).', default: 'all'}),
    iterations: Flags.integer({char: 'n', description: 'Iterations per scenario.', default: 3, min: 1}),
    traffic: Flags.string({description: 'Traffic kinds: http, or http,mqtt (MQTT needs a broker: Mosquitto on PATH, the profile\'s, or --mqtt-url).', default: 'http,mqtt'}),
    rate: Flags.integer({description: 'HTTP requests and MQTT messages per second.', default: 50, min: 1, max: 1000}),
    proxy: Flags.string({description: 'Local proxy: HAProxy with the rendered config when on PATH (auto), or the built-in one.', options: ['auto', 'haproxy', 'builtin'], default: 'auto'}),
    junit: Flags.string({description: 'Write JUnit XML here (a testcase per scenario).'}),
    report: Flags.string({description: 'Write a self-contained HTML report with a timeline per scenario here.'}),
    keep: Flags.boolean({description: 'Keep the temporary directories (userDirs, logs, configs) and write the local cluster file.', default: false}),
    'cluster-file': Flags.string({description: 'With --keep: where to write the local cluster file for ff-ha deploy --discovery local.', default: DEFAULT_CLUSTER_FILE}),
    url: Flags.string({description: 'Compose / Kubernetes: the URL clients use (the proxy, Service or Ingress). Compose default: http://127.0.0.1:<compose.ports.http>/.'}),
    'mqtt-url': Flags.string({description: 'Compose / Kubernetes: the broker URL for the drill\'s MQTT clients. Compose default with a bundled broker: mqtt://127.0.0.1:<compose.ports.mqtt>.'}),
    'agent-url': Flags.string({description: 'Compose / Kubernetes: name=URL of a replica\'s agent status server (repeatable; overrides discovery).', multiple: true}),
    'replica-url': Flags.string({description: 'Compose / Kubernetes: name=URL of a replica\'s admin API (repeatable), to deploy the probe tab.', multiple: true}),
  }

  protected async execute(): Promise<CommandResult<CommandJson['failover-test']>> {
    const {flags} = await this.parse(FailoverTest)
    const progress = makeProgress({quiet: false})
    const resources = new Resources()
    const controller = new AbortController()
    // Ctrl-C: stop at once, kill every process the drill started and remove its directories
    const onSignal = () => {
      progress.info('interrupted: cleaning up')
      controller.abort()
      void resources.cleanup()
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const {report, profileSource, flowsSource} = await runFailoverTest({
        profileFile: flags.profile,
        flowsFile: flags.flows,
        target: flags.target,
        scenarios: flags.scenario,
        iterations: flags.iterations,
        traffic: flags.traffic,
        rate: flags.rate,
        proxy: flags.proxy,
        junitFile: flags.junit,
        reportFile: flags.report,
        keep: flags.keep,
        clusterFile: flags['cluster-file'],
        url: flags.url,
        mqttUrl: flags['mqtt-url'],
        agentUrls: flags['agent-url'],
        targets: flags['replica-url'],
        resources,
        signal: controller.signal,
        log: line => progress.info(line),
      })
      if (controller.signal.aborted) throw new CheckFailedError('interrupted: every process the drill started was stopped')
      progress.info(`profile: ${profileSource}; flows: ${flowsSource}`)
      return {json: drillJson(report), text: drillTable(report), exitCode: report.passed ? 0 : 1}
    } catch (err) {
      if (controller.signal.aborted) throw new CheckFailedError('interrupted: every process the drill started was stopped')
      throw err
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await resources.cleanup()
    }
  }
}
