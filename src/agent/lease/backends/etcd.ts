import {performance} from 'node:perf_hooks'
import {z} from 'zod'
import {InputError, RemoteError, errorMessage} from '../../../errors.js'
import {ENV} from '../../../model/env.js'
import {registerSecret} from '../../../output/secrets.js'
import type {ProfileIssue} from '../../../profile/checks.js'
import type {Profile} from '../../../profile/schema.js'
import {containerPath} from '../../../profile/types.js'
import type {LeaseBackend} from './types.js'

// etcd (issue 13): several hosts without Kubernetes. The store is src/agent/lease/etcd.ts, through etcd's v3
// JSON gateway (src/agent/lease/etcd-client.ts); docs/design/etcd-lease.md has the mapping and the proof.

/** Why an etcd endpoint is not usable, or undefined when it is: an http(s) base URL, no credentials, no path. */
export function etcdEndpointProblem(value: string): string | undefined {
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029]/.test(value)) return 'must be one URL without spaces or control characters, like http://10.0.0.5:2379'
  if (/^[\w.-]+:\d+$/.test(value) || /^\[[\d:a-fA-F]+\]:\d+$/.test(value)) return `has no scheme: write http://${value} (or https:// for TLS)`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not a URL: write it like http://10.0.0.5:2379 (the scheme, the host and the client port)'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL like http://10.0.0.5:2379, not ${url.protocol}//`
  if (url.username || url.password) return 'must not hold a user name or password: name the environment variables that hold them in failover.etcd.usernameEnv and passwordEnv'
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return 'must be the member\'s base URL, without a path, query or fragment, like http://10.0.0.5:2379'
  if (!url.hostname) return 'must name a host, like http://10.0.0.5:2379'
  return undefined
}

const endpoint = z.string().superRefine((value, ctx) => {
  const problem = etcdEndpointProblem(value)
  if (problem) ctx.addIssue({code: 'custom', message: problem})
})
// A key prefix is a directory of keys: printable, no spaces, ending in "/" (so "<prefix>lease/<name>" reads well).
const PREFIX = /^[\u0021-\u007e]*\/$/
const PREFIX_RULE = 'must be printable ASCII without spaces, ending in "/", like /ff-ha/'
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')

const profileFields = {
  /** The etcd lease (failover.lease: etcd). Never a credential here: file paths and variable names only. */
  etcd: z
    .strictObject({
      /** The etcd members' client URLs (every member, so that the agent can fail over between them). */
      endpoints: z.array(endpoint).default([]),
      /** Key prefix: the lease lives at <prefix>lease/<name> and its fencing token at <prefix>fence/<name>. */
      prefix: z.string().regex(PREFIX, PREFIX_RULE).max(200).default('/ff-ha/'),
      /** TLS to the members: the CA that signed their certificates, and a client certificate and key (paths in the replica). */
      tls: z.strictObject({caFile: containerPath.optional(), certFile: containerPath.optional(), keyFile: containerPath.optional()}).optional(),
      /** The environment variables that hold etcd's user name and password (etcd auth enabled). */
      usernameEnv: envName.optional(),
      passwordEnv: envName.optional(),
    })
    .prefault({}),
}

export interface EtcdLeaseOptions {
  endpoints: string[]
  prefix: string
  tls?: {caFile?: string; certFile?: string; keyFile?: string}
  auth?: {username: string; password: string}
  /** The longest one read() or write() may take, and one endpoint within it (derived from the timings). */
  operationTimeoutMs: number
  attemptTimeoutMs: number
}

/**
 * Deadlines from the timings: a round is a read and a write, and both must fit well inside renewDeadline with
 * time to spare for a second round (invariant 2), so one operation gets a third of it; one endpoint gets half
 * of that, so a dead member and a live one both fit in one operation.
 */
export function etcdDeadlines(renewDeadlineMs: number): {operationTimeoutMs: number; attemptTimeoutMs: number} {
  const operationTimeoutMs = Math.max(200, Math.floor(renewDeadlineMs / 3))
  return {operationTimeoutMs, attemptTimeoutMs: Math.max(100, Math.floor(operationTimeoutMs / 2))}
}

/** How long an agent waits at start for the etcd members to answer before it exits 1. */
export const START_WAIT_MS = 10_000

/** Endpoints from FF_HA_ETCD_ENDPOINTS (comma-separated), checked like the profile's. */
function endpointsFromEnv(value: string): string[] {
  const list = value.split(',').map(s => s.trim()).filter(Boolean)
  for (const e of list) {
    const problem = etcdEndpointProblem(e)
    if (problem) throw new InputError(`${ENV.etcdEndpoints}: ${JSON.stringify(e)} ${problem}`, `set ${ENV.etcdEndpoints} to the members' client URLs, comma-separated, e.g. http://10.0.0.5:2379,http://10.0.0.6:2379`)
  }
  return list
}

export const etcdLeaseBackend: LeaseBackend<'etcd', EtcdLeaseOptions, typeof profileFields> = {
  id: 'etcd',
  summary: 'etcd (several hosts: a 3-member etcd cluster; compose per host, or kubernetes)',
  targets: ['compose', 'kubernetes'],
  defaultFor: null,
  profileFields,
  profileIssues(p) {
    const e = p.failover.etcd
    const issues: ProfileIssue[] = []
    if (e.endpoints.length === 0) {
      issues.push({path: ['failover', 'etcd', 'endpoints'], message: 'the etcd lease needs at least one etcd member (better three: one per host)', hint: 'add failover.etcd.endpoints: [http://10.0.0.5:2379, http://10.0.0.6:2379, http://10.0.0.7:2379]'})
    }
    const seen = new Set<string>()
    e.endpoints.forEach((url, i) => {
      const key = new URL(url).origin
      if (seen.has(key)) issues.push({path: ['failover', 'etcd', 'endpoints', i], message: `${url} is listed twice`, hint: 'list each etcd member once'})
      seen.add(key)
    })
    const schemes = new Set(e.endpoints.map(url => new URL(url).protocol))
    if (schemes.size > 1) issues.push({path: ['failover', 'etcd', 'endpoints'], message: 'mixes http and https: the members of one cluster serve clients one way', hint: 'use https for every member (with failover.etcd.tls), or http for every member'})
    if (e.tls && schemes.has('http:') && !schemes.has('https:')) issues.push({path: ['failover', 'etcd', 'tls'], message: 'is set, but the endpoints are http: TLS would not be used', hint: 'write the endpoints as https://..., or remove failover.etcd.tls'})
    if (e.tls && !e.tls.certFile !== !e.tls.keyFile) {
      issues.push({path: ['failover', 'etcd', 'tls', e.tls.certFile ? 'keyFile' : 'certFile'], message: 'a client certificate needs its key, and a key its certificate', hint: 'set both tls.certFile and tls.keyFile, or neither'})
    }
    if (!e.usernameEnv !== !e.passwordEnv) {
      issues.push({path: ['failover', 'etcd', e.usernameEnv ? 'passwordEnv' : 'usernameEnv'], message: 'etcd auth needs both a user name and a password variable', hint: 'set both failover.etcd.usernameEnv and passwordEnv (variable names, e.g. ETCD_USERNAME and ETCD_PASSWORD), or neither'})
    }
    return issues
  },
  // Cross-host: every renew is an etcd write (a Raft round to a quorum, and an fsync on each member: a few ms on
  // a LAN, spikes of a few hundred ms on a loaded disk). Goal: a lost host taken over in <= 2.5 s (issue 13):
  // a spare takes over at most leaseDuration + ~2 polls after the holder's last renew, so leaseDuration is 2 s.
  // renewDeadline 1.5 s leaves the holder 0.5 s to stop its flows (invariant 1) and ~5 renew tries of 250 ms
  // (invariant 2); it also rides out an etcd leader election when etcd's election timeout is 500 ms (elections
  // take 1-2 x that), not with etcd's default of 1 s (docs/design/etcd-lease.md).
  defaultTimings: {
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 250,
    healthIntervalMs: 250,
    healthTimeoutMs: 200,
    healthFailureThreshold: 3,
  },
  // A read is one linearizable etcd read (~1 ms on a LAN): spares poll faster than they renew, so that they
  // see a released lease (a graceful handover) sooner and the expiry of a lost holder's lease within ~100 ms.
  candidatePollMs: 100,
  options({profile, env}) {
    const e = profile.failover.etcd
    const fromEnv = env[ENV.etcdEndpoints]
    const endpoints = fromEnv ? endpointsFromEnv(fromEnv) : e.endpoints
    if (endpoints.length === 0) {
      throw new InputError('failover.lease is etcd, but no etcd endpoint is set', `list the members in failover.etcd.endpoints, or set ${ENV.etcdEndpoints} (comma-separated URLs)`)
    }
    const tlsFiles = {
      caFile: env[ENV.etcdCaFile] || e.tls?.caFile,
      certFile: env[ENV.etcdCertFile] || e.tls?.certFile,
      keyFile: env[ENV.etcdKeyFile] || e.tls?.keyFile,
    }
    const tls = Object.fromEntries(Object.entries(tlsFiles).filter(([, v]) => v)) as EtcdLeaseOptions['tls']
    let auth: EtcdLeaseOptions['auth']
    if (e.usernameEnv || e.passwordEnv) {
      for (const name of [e.usernameEnv, e.passwordEnv]) {
        if (!name || !env[name]) throw new InputError(`${name ?? 'failover.etcd.usernameEnv/passwordEnv'} is not set: the etcd lease logs in to etcd with it (failover.etcd.${name === e.usernameEnv ? 'usernameEnv' : 'passwordEnv'})`, `export ${name ?? 'ETCD_PASSWORD'}=<the etcd ${name === e.usernameEnv ? 'user name' : 'password'}>, or remove failover.etcd.usernameEnv and passwordEnv if etcd has no auth`)
      }
      auth = {username: env[e.usernameEnv!]!, password: env[e.passwordEnv!]!}
      registerSecret(auth.password)
    }
    const prefix = env[ENV.etcdPrefix] || e.prefix
    if (!PREFIX.test(prefix) || prefix.length > 200) throw new InputError(`${ENV.etcdPrefix}: ${JSON.stringify(prefix)} ${PREFIX_RULE}`, `set ${ENV.etcdPrefix} like /ff-ha/, or unset it to use failover.etcd.prefix`)
    return {
      endpoints,
      prefix,
      ...(tls && Object.keys(tls).length ? {tls} : {}),
      ...(auth ? {auth} : {}),
      ...etcdDeadlines(profile.failover.renewDeadlineMs),
    }
  },
  async open(config, replica) {
    const {EtcdLeaseStore} = await import('../etcd.js')
    const {EtcdAnswerError} = await import('../etcd-client.js')
    const store = new EtcdLeaseStore({...config, name: config.name})
    // Read once at start: a wrong URL, members that do not answer or a refused login are said now, in one line
    // naming the endpoints, rather than as a spare that never becomes active. Members that do not answer get
    // START_WAIT_MS first: hosts that boot together start their agent and their etcd member at once, and a
    // cluster needs a quorum of members up before it answers. A definite answer (auth refused) fails at once.
    const started = performance.now()
    for (;;) {
      try {
        await store.read()
        return store
      } catch (err) {
        const waited = performance.now() - started
        if (!(err instanceof InputError) && !(err instanceof EtcdAnswerError) && waited < START_WAIT_MS) {
          await new Promise(resolve => setTimeout(resolve, 500))
          continue
        }
        await store.close()
        if (err instanceof InputError) throw err
        const after = err instanceof EtcdAnswerError ? '' : ` (for ${Math.round(waited / 1000)} s)`
        throw new RemoteError(`${replica}: cannot reach the etcd lease at ${config.endpoints.join(', ')}${after}: ${errorMessage(err).replace(/^etcd unreachable: /, '')}`, {
          replica,
          hint: 'start the etcd members (and check that this host reaches them), or correct failover.etcd.endpoints',
        })
      }
    }
  },
  render: {
    // No volume: the lease is in etcd. The credentials' values come from the shell or .env at `up`.
    compose: profile => {
      const {values, credentials} = etcdEnvironment(profile)
      const required = (name: string) => `\${${name}:?set ${name} for the etcd lease, e.g. in .env beside compose.yaml}`
      return {environment: {...values, ...Object.fromEntries(credentials.map(c => [c.name, required(c.name)]))}, volumes: []}
    },
    // No RBAC: the lease is in etcd, not in the API server. The credentials come from the profile's Secret
    // (keys etcd-username and etcd-password).
    kubernetes: profile => {
      const {values, credentials} = etcdEnvironment(profile)
      return {env: [...Object.entries(values).map(([name, value]) => ({name, value})), ...credentials.map(c => ({name: c.name, secretKey: c.secretKey}))], rbac: null}
    },
  },
}

/** The agent's etcd environment: endpoints, prefix, TLS file paths; and the credential variables, by name. */
function etcdEnvironment(profile: Profile): {values: Record<string, string>; credentials: {name: string; secretKey: string}[]} {
  const e = profile.failover.etcd
  const values = {
    [ENV.etcdEndpoints]: e.endpoints.join(','),
    [ENV.etcdPrefix]: e.prefix,
    ...(e.tls?.caFile ? {[ENV.etcdCaFile]: e.tls.caFile} : {}),
    ...(e.tls?.certFile ? {[ENV.etcdCertFile]: e.tls.certFile} : {}),
    ...(e.tls?.keyFile ? {[ENV.etcdKeyFile]: e.tls.keyFile} : {}),
  }
  const credentials = [
    ...(e.usernameEnv ? [{name: e.usernameEnv, secretKey: 'etcd-username'}] : []),
    ...(e.passwordEnv ? [{name: e.passwordEnv, secretKey: 'etcd-password'}] : []),
  ]
  return {values, credentials}
}
