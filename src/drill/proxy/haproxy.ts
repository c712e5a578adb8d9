import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {renderHaproxyConfig} from '../../render/haproxy.js'
import type {Profile} from '../../profile/schema.js'
import {RemoteError} from '../../errors.js'
import {runCommand, stopProcess} from '../../process/run.js'
import {waitForPort} from '../net.js'
import type {Resources} from '../processes.js'
import type {ProxyServer, RunningProxy} from './builtin.js'

// HAProxy with the very haproxy.cfg that `ff-ha render` writes for Compose (only the addresses differ, and
// no Docker DNS resolvers), so that the drill tests that config for real.

export async function startHaproxy(
  haproxy: string,
  profile: Profile,
  options: {servers: ProxyServer[]; bindPort: number; bindAddress?: string; dir: string; resources: Resources},
): Promise<RunningProxy & {configFile: string}> {
  const config = renderHaproxyConfig(profile, {servers: options.servers, bindPort: options.bindPort, bindAddress: options.bindAddress ?? '127.0.0.1', resolvers: false})
  const configFile = join(options.dir, 'haproxy.cfg')
  writeFileSync(configFile, config)
  const check = await runCommand(haproxy, ['-c', '-q', '-f', configFile], {timeoutMs: 10_000})
  if (!check.ok) throw new RemoteError(`haproxy refused the rendered config ${configFile}: ${check.stderr.split('\n').find(l => /ALERT|error/i.test(l)) ?? check.why}`)
  const child = options.resources.spawn(haproxy, ['-db', '-f', configFile], {stderr: 'pipe'})
  let stderr = ''
  child.stderr?.on('data', d => (stderr = (stderr + d).slice(-2000)))
  const host = options.bindAddress && options.bindAddress !== '0.0.0.0' ? options.bindAddress : '127.0.0.1'
  try {
    await waitForPort(host, options.bindPort, 10_000, () => child.exitCode !== null)
  } catch {
    throw new RemoteError(`haproxy did not start listening on ${host}:${options.bindPort}: ${stderr.trim().split('\n').pop() ?? 'no output'}`)
  }
  return {
    url: `http://${host}:${options.bindPort}/`,
    configFile,
    up: () => [],
    stop: () => stopProcess(child, {graceMs: 3000}),
  }
}
