import {ROLES, type Role} from './status.js'

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

// Prometheus text exposition (format 0.0.4) of what an operator wants to alert on.
export class AgentMetrics {
  leaseAcquisitions = 0
  leaseLosses = 0
  leaseReleases = 0
  failovers = 0
  restarts = 0
  healthFailures = 0
  fences = 0
  private healthCounts = new Array<number>(BUCKETS.length).fill(0)
  private healthSum = 0
  private healthCount = 0

  observeHealthCheck(seconds: number): void {
    this.healthSum += seconds
    this.healthCount++
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.healthCounts[i]++
    })
  }

  render(replica: string, role: Role, fencingToken: number | null): string {
    const l = `replica="${replica.replace(/["\\\n]/g, '_')}"`
    const lines: string[] = []
    const metric = (name: string, type: string, help: string, values: string[]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...values)
    }
    metric('ff_ha_agent_role', 'gauge', 'The agent role (1 for the current one).', ROLES.map(r => `ff_ha_agent_role{${l},role="${r}"} ${r === role ? 1 : 0}`))
    metric('ff_ha_agent_active', 'gauge', '1 while this replica holds the lease and its flows are started.', [`ff_ha_agent_active{${l}} ${role === 'active' ? 1 : 0}`])
    metric('ff_ha_agent_lease_transitions', 'gauge', 'The lease fencing token last seen (grows at every transition).', [`ff_ha_agent_lease_transitions{${l}} ${fencingToken ?? 0}`])
    metric('ff_ha_agent_lease_acquisitions_total', 'counter', 'Tenures this agent began.', [`ff_ha_agent_lease_acquisitions_total{${l}} ${this.leaseAcquisitions}`])
    metric('ff_ha_agent_lease_losses_total', 'counter', 'Tenures lost (renew deadline, taken, pause).', [`ff_ha_agent_lease_losses_total{${l}} ${this.leaseLosses}`])
    metric('ff_ha_agent_lease_releases_total', 'counter', 'Leases given up on purpose (failure, shutdown).', [`ff_ha_agent_lease_releases_total{${l}} ${this.leaseReleases}`])
    metric('ff_ha_agent_failovers_total', 'counter', 'Takeovers from another holder.', [`ff_ha_agent_failovers_total{${l}} ${this.failovers}`])
    metric('ff_ha_agent_fences_total', 'counter', 'Times flows were stopped because the lease could no longer be trusted.', [`ff_ha_agent_fences_total{${l}} ${this.fences}`])
    metric('ff_ha_agent_node_red_restarts_total', 'counter', 'Node-RED restarts.', [`ff_ha_agent_node_red_restarts_total{${l}} ${this.restarts}`])
    metric('ff_ha_agent_health_check_failures_total', 'counter', 'Failed Node-RED health checks.', [`ff_ha_agent_health_check_failures_total{${l}} ${this.healthFailures}`])
    metric('ff_ha_agent_health_check_duration_seconds', 'histogram', 'Node-RED health check latency.', [
      ...BUCKETS.map((b, i) => `ff_ha_agent_health_check_duration_seconds_bucket{${l},le="${b}"} ${this.healthCounts[i]}`),
      `ff_ha_agent_health_check_duration_seconds_bucket{${l},le="+Inf"} ${this.healthCount}`,
      `ff_ha_agent_health_check_duration_seconds_sum{${l}} ${this.healthSum.toFixed(6)}`,
      `ff_ha_agent_health_check_duration_seconds_count{${l}} ${this.healthCount}`,
    ])
    return lines.join('\n') + '\n'
  }
}
