import {execa, type ResultPromise} from 'execa'
import type {ReplicaTarget} from '../../admin/types.js'
import {RemoteError} from '../../errors.js'
import {explainToolFailure, firstLine, runTool, type ToolRun} from './tool.js'

export interface KubernetesDiscovery extends ToolRun {
  namespace: string
  /** The StatefulSet's pod labels, as `ff-ha render` writes them (app.kubernetes.io/name and /instance). */
  selector: Record<string, string>
  port: number
  statusPort?: number
  adminRoot?: string
  /** How long to wait for each port-forward to say which local port it chose. */
  forwardTimeoutMs?: number
}

interface Pod {
  metadata?: {name?: string; deletionTimestamp?: string}
  status?: {phase?: string}
}

export interface KubernetesReplicas {
  replicas: ReplicaTarget[]
  /** Stop every port-forward. */
  close(): Promise<void>
}

/**
 * The StatefulSet's pods through kubectl, each reached by its own `kubectl port-forward pod/<pod> :<port>`
 * for the duration of the deploy (a pod's admin port is not exposed outside the cluster).
 */
export async function discoverKubernetes(options: KubernetesDiscovery): Promise<KubernetesReplicas> {
  const selector = Object.entries(options.selector).map(([k, v]) => `${k}=${v}`).join(',')
  const out = await runTool('kubectl', ['get', 'pods', '-n', options.namespace, '-l', selector, '-o', 'json'], options)
  let pods: Pod[]
  try {
    pods = (JSON.parse(out) as {items?: Pod[]}).items ?? []
  } catch {
    throw new RemoteError('`kubectl get pods -o json` printed something that is not JSON')
  }
  const running = pods.filter(p => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.metadata?.name)
  if (running.length === 0) {
    throw new RemoteError(`kubectl: no running pods with ${selector} in namespace ${options.namespace} (${pods.length} in all)`, {
      hint: 'apply the manifests (kubectl apply -k deploy/) and wait for the pods, or check --namespace',
    })
  }
  const forwards: PortForward[] = []
  const close = async () => {
    await Promise.all(forwards.map(f => f.stop()))
  }
  try {
    const replicas: ReplicaTarget[] = []
    for (const pod of running) {
      const name = pod.metadata!.name!
      const ports = options.statusPort ? [options.port, options.statusPort] : [options.port]
      const forward = await portForward(options, name, ports)
      forwards.push(forward)
      const root = (options.adminRoot ?? '/').replace(/^\/?/, '/')
      const admin = forward.local.get(options.port)!
      const status = options.statusPort ? forward.local.get(options.statusPort) : undefined
      replicas.push({name, url: `http://127.0.0.1:${admin}${root.endsWith('/') ? root : root + '/'}`, ...(status ? {agentUrl: `http://127.0.0.1:${status}/`} : {})})
    }
    return {replicas, close}
  } catch (err) {
    await close()
    throw err
  }
}

interface PortForward {
  /** Remote port -> the local port kubectl chose. */
  local: Map<number, number>
  stop(): Promise<void>
}

const FORWARDING = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/

async function portForward(options: KubernetesDiscovery, pod: string, ports: number[]): Promise<PortForward> {
  const args = ['port-forward', '-n', options.namespace, `pod/${pod}`, '--address', '127.0.0.1', ...ports.map(p => `:${p}`)]
  const child: ResultPromise = execa('kubectl', args, {reject: false, env: options.env, extendEnv: options.env === undefined, stdin: 'ignore', buffer: false})
  const local = new Map<number, number>()
  let stderr = ''
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await child.catch(() => undefined)
  }
  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const resolve = () => {
      clearTimeout(timer)
      resolveReady()
    }
    const reject = (err: Error) => {
      clearTimeout(timer)
      rejectReady(err)
    }
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      for (const line of stdout.split('\n')) {
        const m = FORWARDING.exec(line)
        if (m) local.set(Number(m[2]), Number(m[1]))
      }
      if (ports.every(p => local.has(p))) resolve()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => reject(new RemoteError(`kubectl port-forward pod/${pod}: no local port within ${options.forwardTimeoutMs ?? 15_000} ms${stderr ? `: ${firstLine(stderr)}` : ''}`)), options.forwardTimeoutMs ?? 15_000)
    child.then(result => {
      reject(new RemoteError(explainToolFailure('kubectl', args, {...result, stderr: stderr || result.stderr}), {hint: 'check the pod and the kubectl context (kubectl get pods)'}))
    }, () => undefined)
  })
  try {
    await ready
  } catch (err) {
    await stop()
    throw err
  }
  return {local, stop}
}
