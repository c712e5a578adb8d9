import {RemoteError} from '../../errors.js'
import {freePort} from '../../net/free-port.js'
import type {Profile} from '../../profile/schema.js'
import type {Resources} from '../processes.js'
import {startBuiltinProxy, type ProxyServer} from '../proxy/builtin.js'
import {startHaproxy} from '../proxy/haproxy.js'
import {firstLine, which} from '../tools.js'
import {modeOf} from '../../modes/index.js'

// The local target's proxy: HAProxy with the rendered haproxy.cfg when it is on PATH (--proxy auto or
// haproxy), else the built-in proxy (--proxy builtin, or auto without haproxy).

export type ProxyChoice = 'auto' | 'haproxy' | 'builtin'

export async function startLocalProxy(options: {choice: ProxyChoice; profile: Profile; servers: ProxyServer[]; dir: string; resources: Resources}): Promise<{name: string; url: string}> {
  const {profile, servers, resources} = options
  const mode = profile.mode
  const bindPort = await freePort()
  const haproxy = options.choice === 'builtin' ? undefined : which('haproxy')
  if (options.choice === 'haproxy' && !haproxy) throw new RemoteError('--proxy haproxy: haproxy is not on PATH', {hint: 'apt-get install haproxy, or use --proxy builtin'})
  if (haproxy) {
    const p = await startHaproxy(haproxy, profile, {servers, bindPort, bindAddress: '127.0.0.1', dir: options.dir, resources})
    const version = firstLine(haproxy, ['-v'])?.match(/version (\S+)/)?.[1]
    return {url: p.url, name: `haproxy${version ? ` ${version}` : ''} (the rendered haproxy.cfg)`}
  }
  const p = await startBuiltinProxy({mode, servers, bindPort, bindAddress: '127.0.0.1', fall: modeOf(mode).traffic.fall})
  resources.onCleanup(() => p.stop())
  return {url: p.url, name: options.choice === 'builtin' ? 'builtin (--proxy builtin)' : 'builtin (haproxy not on PATH)'}
}
