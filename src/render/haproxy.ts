import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {templatesDir} from '../paths.js'
import type {Profile} from '../profile/schema.js'
import {checkIntervalMs, checkTimeoutMs} from '../model/proxy-checks.js'
import {modeOf} from '../modes/index.js'
import {BugError} from '../errors.js'

export interface HaproxyServer {
  name: string
  /** Host name (resolved at run time when `resolvers` is on) or IP address. */
  address: string
  /** Node-RED's port on that replica. */
  port: number
  /** The agent's status port on that replica: /active (hot-spare) or /healthz (load-balanced). */
  checkPort: number
}

export interface HaproxyOptions {
  servers: HaproxyServer[]
  bindPort: number
  /** Default: every address. */
  bindAddress?: string
  /** A stats page (/) and Prometheus metrics (/metrics) on this port. */
  statsPort?: number
  /** Resolve server names through Docker's DNS at run time (Compose), so HAProxy starts while a replica is down. */
  resolvers?: boolean
}

const MARKER = /^# ff-ha:sections.*$/m

/** haproxy.cfg for the profile's mode: the template's global and defaults, then frontend and backends. */
export function renderHaproxyConfig(profile: Profile, options: HaproxyOptions): string {
  const template = readFileSync(join(templatesDir, 'haproxy', 'haproxy.cfg'), 'utf8')
  const match = MARKER.exec(template)
  if (!match) throw new BugError('templates/haproxy/haproxy.cfg lost its "# ff-ha:sections" marker')
  if (options.servers.length === 0) throw new BugError('renderHaproxyConfig needs at least one server')
  const head = template.slice(0, match.index)
  const sections = [
    ...(options.resolvers ? [resolversSection()] : []),
    backendSections(profile, options),
    ...(options.statsPort ? [statsSection(options)] : []),
  ]
  return head + sections.join('\n')
}

// Where the mode sends traffic decides the frontend and backends.
function backendSections(profile: Profile, options: HaproxyOptions): string {
  switch (modeOf(profile.mode).traffic.to) {
    case 'the-active':
      return hotSpare(profile, options)
    case 'every-healthy':
      return loadBalanced(profile, options)
  }
}

function bind(address: string | undefined, port: number): string {
  return `    bind ${address ?? ''}:${port}`
}

function defaultServer(profile: Profile, options: HaproxyOptions): string {
  const fall = modeOf(profile.mode).traffic.fall
  const inter = checkIntervalMs(profile)
  // on-marked-down: cut the sessions (keep-alive, websockets) to a replica that stopped being active or
  // healthy, so clients reconnect to the one that is. init-addr none: start even when a name does not resolve.
  const resolve = options.resolvers ? ' resolvers docker resolve-prefer ipv4 init-addr none' : ''
  return `    default-server inter ${inter}ms fastinter ${inter}ms downinter ${inter}ms fall ${fall} rise 1 on-marked-down shutdown-sessions${resolve}`
}

function serverLines(options: HaproxyOptions, extra: (s: HaproxyServer) => string = () => ''): string[] {
  return options.servers.map(s => `    server ${s.name} ${s.address}:${s.port} check port ${s.checkPort}${extra(s)}`)
}

function hotSpare(profile: Profile, options: HaproxyOptions): string {
  return [
    'frontend http',
    bind(options.bindAddress, options.bindPort),
    '    default_backend active',
    '',
    '# Hot-spare: only the replica whose agent holds the lease and runs flows answers 200 on /active.',
    'backend active',
    '    option httpchk',
    `    http-check send meth GET uri ${modeOf(profile.mode).traffic.checkPath}`,
    '    http-check expect status 200',
    `    timeout check ${checkTimeoutMs(profile)}ms`,
    defaultServer(profile, options),
    ...serverLines(options),
    '',
  ].join('\n')
}

// With adminRoot "/" the editor shares the root with http-in endpoints: match the editor's own paths
// (@node-red/editor-api's routes). No trailing slash where the route itself has none: the editor's
// GET /icons?_=... needs the login its replica issued (sessions are per replica), and '/icons/' sent it round
// robin to the other replica, which answered 401 and left the editor at "Loading" half the time.
const EDITOR_PATHS = ['/comms', '/flow', '/settings', '/red/', '/vendor/', '/locales/', '/nodes', '/icons', '/auth/', '/projects', '/theme', '/plugins', '/library/', '/context/', '/inject/', '/debug/', '/diagnostics', '/credentials/', '/favicon.ico']
const DASHBOARD_PATHS = ['/dashboard', '/ui', '/socket.io']

function loadBalanced(profile: Profile, options: HaproxyOptions): string {
  const lines = ['frontend http', bind(options.bindAddress, options.bindPort)]
  if (profile.http.sticky) {
    const admin = profile.nodeRed.adminRoot
    lines.push('    # The editor (session, comms websocket) and Dashboard keep state in one replica: pin each browser to one.')
    if (profile.http.editor) {
      if (admin === '/') lines.push('    acl editor path /', `    acl editor path_beg ${EDITOR_PATHS.join(' ')}`)
      else lines.push(`    acl editor path_beg ${admin.replace(/\/$/, '')}`)
    }
    lines.push(`    acl dashboard path_beg ${DASHBOARD_PATHS.join(' ')}`, '    acl websocket hdr(upgrade) -i websocket')
    lines.push(`    use_backend sticky if ${profile.http.editor ? 'editor || ' : ''}dashboard || websocket`)
  }
  lines.push('    default_backend replicas', '')
  const checks = ['    option httpchk', `    http-check send meth GET uri ${modeOf(profile.mode).traffic.checkPath}`, '    http-check expect status 200', `    timeout check ${checkTimeoutMs(profile)}ms`]
  // L7 retries: a full deploy restarts a replica's flows, and its http-in routes answer 404 for a moment
  // (ff-ha deploy rolls one replica at a time, so another one serves the same route). Retry such a request,
  // and a refused connection on another server (redispatch on every retry). Not on response-timeout nor on
  // empty-response: the flow may have run before the replica died or closed the connection, and a retried
  // POST runs it twice (seen in test/integration/context/haproxy-increments.test.ts: a replica restarted under
  // overload, and 10,000 POSTs of an atomic increment ended at 10,027-10,098). HAProxy retries only a
  // request it still holds whole: buffer the body first so small POSTs qualify too. A flow that really
  // answers 404 costs at most `retries` extra requests, then the 404 goes to the client.
  const retry = ['    option http-buffer-request', '    option redispatch 1', '    retries 3', '    retry-on conn-failure 404']
  lines.push('# Load-balanced: every healthy replica runs flows; spread requests round-robin.', 'backend replicas', '    balance roundrobin', ...retry, ...checks, defaultServer(profile, options), ...serverLines(options), '')
  if (profile.http.sticky) {
    lines.push(
      'backend sticky',
      '    balance roundrobin',
      '    cookie FFHA_REPLICA insert indirect nocache httponly',
      ...(options.resolvers ? ['    default-server on-marked-down shutdown-sessions resolvers docker resolve-prefer ipv4 init-addr none'] : ['    default-server on-marked-down shutdown-sessions']),
      // Track the health of the same servers in `replicas` instead of checking every replica twice.
      ...serverLines(options, s => ` cookie ${s.name} track replicas/${s.name}`).map(l => l.replace(/ check port \d+/, '')),
      '',
    )
  }
  return lines.join('\n')
}

function resolversSection(): string {
  return [
    "# Docker's embedded DNS: replicas are resolved at run time, so HAProxy starts and keeps running while one is down.",
    'resolvers docker',
    '    nameserver dns 127.0.0.11:53',
    '    resolve_retries 3',
    '    timeout resolve 1s',
    '    timeout retry 1s',
    '    hold valid 1s',
    '    hold other 1s',
    '    hold refused 1s',
    '    hold nx 1s',
    '    hold timeout 1s',
    '    hold obsolete 1s',
    '',
  ].join('\n')
}

function statsSection(options: HaproxyOptions): string {
  return [
    'frontend stats',
    bind(options.bindAddress, options.statsPort!),
    '    http-request use-service prometheus-exporter if { path /metrics }',
    '    stats enable',
    '    stats uri /',
    '    stats refresh 5s',
    '',
  ].join('\n')
}
