import type {AgentStatusClient} from '../../admin/agent.js'
import {RemoteError} from '../../errors.js'
import {sendSignal} from '../../process/run.js'
import type {ScenarioName} from '../types.js'
import {agentUrl, type LocalReplica} from './local-replica.js'
import type {NetnsNetwork} from './netns.js'
import type {AppliedFault} from './types.js'

// The local target's faults, as signals to the replica's processes (the agent and its Node-RED) and, for
// the partition, its veth link taken down.

export async function applyLocalFault(
  scenario: Exclude<ScenarioName, 'deploy'>,
  r: LocalReplica,
  context: {agents: AgentStatusClient; net?: NetnsNetwork},
): Promise<AppliedFault> {
  const name = r.name
  const agentPid = r.child?.pid
  if (!agentPid) throw new RemoteError(`${name}: no agent process`, {replica: name})
  const nodeRedPid = async (): Promise<number> => {
    const s = await context.agents.status(name, agentUrl(r))
    if (!s?.nodeRedPid) throw new RemoteError(`${name}: the agent reports no Node-RED pid`, {replica: name})
    return s.nodeRedPid
  }
  switch (scenario) {
    case 'crash': {
      const pid = await nodeRedPid()
      sendSignal(pid, 'SIGKILL')
      return {scenario, replica: name, nodeRedPid: pid}
    }
    case 'replica-crash': {
      // the whole replica at once, as when its container or host dies: nobody releases the lease
      const pid = await nodeRedPid()
      sendSignal(agentPid, 'SIGKILL')
      sendSignal(pid, 'SIGKILL')
      return {scenario, replica: name, nodeRedPid: pid}
    }
    case 'hang': {
      const pid = await nodeRedPid()
      sendSignal(pid, 'SIGSTOP')
      return {scenario, replica: name, nodeRedPid: pid, heal: async () => void sendSignal(pid, 'SIGCONT')}
    }
    case 'freeze': {
      const pid = await nodeRedPid()
      // both at once: the agent cannot notice, only the lease expiry saves the others
      sendSignal(agentPid, 'SIGSTOP')
      sendSignal(pid, 'SIGSTOP')
      return {
        scenario,
        replica: name,
        nodeRedPid: pid,
        heal: async () => {
          sendSignal(agentPid, 'SIGCONT')
          sendSignal(pid, 'SIGCONT')
        },
      }
    }
    case 'graceful':
      sendSignal(agentPid, 'SIGTERM')
      return {scenario, replica: name}
    case 'partition': {
      const net = context.net
      if (!net) throw new RemoteError('partition needs the netns topology (--network netns)')
      const nr = net.replicas.find(x => x.namespace === r.namespace)!
      await net.cut(nr)
      return {scenario, replica: name, heal: () => net.heal(nr)}
    }
    case 'host-loss': {
      // the host gone at once: its processes killed and its link cut in the same instant (the hosts
      // target also kills the host's etcd member); the link comes back with the replica, in recover()
      const net = context.net
      if (!net) throw new RemoteError('host-loss needs a topology of hosts (--target hosts)')
      const nr = net.replicas.find(x => x.namespace === r.namespace)!
      const pid = await nodeRedPid()
      const cut = net.cut(nr)
      sendSignal(agentPid, 'SIGKILL')
      sendSignal(pid, 'SIGKILL')
      await cut
      return {scenario, replica: name, nodeRedPid: pid}
    }
    default:
      throw new RemoteError(`${scenario} is not a fault of one replica: the hosts target applies it`, {replica: name})
  }
}
