import {ALL_SCENARIOS, FAULT_CLASSES, type DrillTarget, type FaultClassCoverage, type ScenarioName, type ScenarioResult} from './types.js'

// Which scenarios each drill target can apply, and one sentence for each one it cannot. A full Record per
// target: adding a scenario does not compile until every target answers for it (and a unit test checks the
// sentences). This is what a target cannot do by design; what this machine lacks (root, a tool) is said by
// the topology at run time.

/** null: runs on this target; else why it cannot, in one sentence. */
export type TargetSupport = Record<ScenarioName, string | null>

const ETCD_ONLY = 'etcd faults need the etcd cluster that --target hosts starts; this target has none the drill controls.'

export const TARGET_SUPPORT: Record<DrillTarget, TargetSupport> = {
  local: {
    crash: null,
    'replica-crash': null,
    hang: null,
    freeze: null,
    // in a second set-up of its own, each replica in a network namespace (as root)
    partition: null,
    'host-loss': 'every local replica runs on this one host, so losing it would end the drill too; --target hosts runs it.',
    graceful: null,
    deploy: null,
    'etcd-leader-kill': ETCD_ONLY,
    'etcd-member-partition': ETCD_ONLY,
    'etcd-outage': ETCD_ONLY,
    'etcd-outage-long': ETCD_ONLY,
  },
  hosts: {
    crash: null,
    'replica-crash': null,
    hang: null,
    freeze: null,
    partition: null,
    'host-loss': null,
    graceful: null,
    deploy: null,
    'etcd-leader-kill': null,
    'etcd-member-partition': null,
    'etcd-outage': null,
    'etcd-outage-long': null,
  },
  compose: {
    crash: null,
    'replica-crash': null,
    hang: null,
    freeze: null,
    partition: 'not on compose: cutting a container off needs docker network disconnect, which ff-ha does not run.',
    'host-loss': 'not on compose: the replicas share one Docker host, so losing it would end the drill too; --target hosts runs it.',
    graceful: null,
    deploy: null,
    'etcd-leader-kill': ETCD_ONLY,
    'etcd-member-partition': ETCD_ONLY,
    'etcd-outage': ETCD_ONLY,
    'etcd-outage-long': ETCD_ONLY,
  },
  kubernetes: {
    crash: null,
    'replica-crash': null,
    hang: null,
    freeze: 'not on kubernetes: a container cannot SIGSTOP its own PID 1 (the kernel ignores it), and ff-ha has no node access.',
    partition: 'not on kubernetes: cutting a pod off needs a NetworkPolicy, which ff-ha does not write.',
    'host-loss': 'not on kubernetes: losing a node needs access to the node, which ff-ha does not have.',
    graceful: null,
    deploy: null,
    'etcd-leader-kill': ETCD_ONLY,
    'etcd-member-partition': ETCD_ONLY,
    'etcd-outage': ETCD_ONLY,
    'etcd-outage-long': ETCD_ONLY,
  },
}

/** Why the scenario cannot run on the target, or undefined. */
export function unsupportedOn(target: DrillTarget, scenario: ScenarioName): string | undefined {
  return TARGET_SUPPORT[target][scenario] ?? undefined
}

/**
 * The report's list: every fault class, then the target's own scenarios that it can run, each as ran,
 * skipped (this machine), not requested, or unsupported (why). Pure.
 */
export function faultClassCoverage(target: DrillTarget, results: ScenarioResult[]): FaultClassCoverage[] {
  const byName = new Map(results.map(r => [r.name, r]))
  const extra = ALL_SCENARIOS.filter(s => !(FAULT_CLASSES as readonly string[]).includes(s) && (TARGET_SUPPORT[target][s] === null || byName.has(s)))
  return [...FAULT_CLASSES, ...extra].map(name => {
    const why = unsupportedOn(target, name)
    if (why) return {name, status: 'unsupported', why}
    const r = byName.get(name)
    if (!r) return {name, status: 'not requested'}
    if (r.skipped) return {name, status: 'skipped', why: r.skipped}
    return {name, status: 'ran'}
  })
}
