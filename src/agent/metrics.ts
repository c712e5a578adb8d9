// What an operator wants to alert on, as prom-client metrics in a registry of this agent's own (not
// prom-client's global one: tests and the drill run several agents in one process).
import {Counter, Gauge, Histogram, Registry} from 'prom-client'
import {ROLES, type Role} from './status.js'

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/** A scrape of /metrics: the Prometheus text and its content type (format 0.0.4). */
export interface MetricsScrape {
  contentType: string
  body: string
}

// The counts are plain fields that the agent sets or increments; each metric reads them at scrape time
// (collect), so the supervisor need not know prom-client.
export class AgentMetrics {
  leaseAcquisitions = 0
  leaseLosses = 0
  leaseReleases = 0
  failovers = 0
  restarts = 0
  healthFailures = 0
  fences = 0
  private readonly registry = new Registry()
  private readonly health: Histogram<'replica'>
  private role: Role = 'starting'
  private fencingToken: number | null = null

  constructor(private readonly replica: string) {
    const registers = [this.registry]
    const labelNames = ['replica'] as const
    const labels = {replica}
    // Captured by the collect callbacks, where `this` is the prom-client metric.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the metric as `this`
    const self = this
    new Gauge({
      name: 'ff_ha_agent_role',
      help: 'The agent role (1 for the current one).',
      labelNames: ['replica', 'role'],
      registers,
      collect() {
        for (const role of ROLES) this.set({replica, role}, role === self.role ? 1 : 0)
      },
    })
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({name, help, labelNames, registers, collect() {
        this.set(labels, value())
      }})
    gauge('ff_ha_agent_active', '1 while this replica holds the lease and its flows are started.', () => (self.role === 'active' ? 1 : 0))
    gauge('ff_ha_agent_lease_transitions', 'The lease fencing token last seen (grows at every transition).', () => self.fencingToken ?? 0)
    // A counter's value is whatever the agent counted; collect replaces it rather than adding to it.
    const counter = (name: string, help: string, value: () => number) =>
      new Counter({name, help, labelNames, registers, collect() {
        this.reset()
        this.inc(labels, value())
      }})
    counter('ff_ha_agent_lease_acquisitions_total', 'Tenures this agent began.', () => self.leaseAcquisitions)
    counter('ff_ha_agent_lease_losses_total', 'Tenures lost (renew deadline, taken, pause).', () => self.leaseLosses)
    counter('ff_ha_agent_lease_releases_total', 'Leases given up on purpose (failure, shutdown).', () => self.leaseReleases)
    counter('ff_ha_agent_failovers_total', 'Takeovers from another holder.', () => self.failovers)
    counter('ff_ha_agent_fences_total', 'Times flows were stopped because the lease could no longer be trusted.', () => self.fences)
    counter('ff_ha_agent_node_red_restarts_total', 'Node-RED restarts.', () => self.restarts)
    counter('ff_ha_agent_health_check_failures_total', 'Failed Node-RED health checks.', () => self.healthFailures)
    this.health = new Histogram({name: 'ff_ha_agent_health_check_duration_seconds', help: 'Node-RED health check latency.', labelNames, buckets: BUCKETS, registers})
    this.health.zero(labels)
  }

  observeHealthCheck(seconds: number): void {
    this.health.observe({replica: this.replica}, seconds)
  }

  /** The metrics with the agent's current role and the fencing token it last saw. */
  async render(role: Role, fencingToken: number | null): Promise<MetricsScrape> {
    this.role = role
    this.fencingToken = fencingToken
    return {contentType: this.registry.contentType, body: await this.registry.metrics()}
  }
}
