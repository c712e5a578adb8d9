import {stringify} from 'yaml'
import type {Profile} from '../profile/schema.js'
import {renderHaproxyConfig} from './haproxy.js'
import {renderMosquittoConfig} from './mosquitto.js'
import {yamlTemplate} from './template.js'
import {InputError} from '../errors.js'
import {COMPOSE_LABELS, CONTAINER, RENDERED, replicaImage, replicaNames} from './names.js'
import {leaseBackend} from '../agent/lease/backends/index.js'
import {composeLeasePiece} from './singleton-lease.js'
import type {ComposeLeasePiece} from '../agent/lease/backends/types.js'
import {modeOf} from '../modes/index.js'
import {ENV} from '../model/env.js'
import {contextPlan, sharedContextDir} from '../model/context-storage.js'

export const MOSQUITTO_SERVICE = 'mosquitto'
export const HAPROXY_SERVICE = 'haproxy'
const STATS_PORT = 8404

/** compose.yaml, haproxy.cfg and (bundled broker) mosquitto.conf, keyed by path under --out. */
export function renderComposeFiles(profile: Profile, version: string): Record<string, string> {
  const files: Record<string, string> = {
    [RENDERED.compose]: composeUsage(profile) + stringify(composeProject(profile, version), {lineWidth: 0, aliasDuplicateObjects: false}),
    [RENDERED.haproxy]: renderHaproxyConfig(profile, {
      servers: replicaNames(profile).map(name => ({name, address: name, port: profile.http.port, checkPort: profile.failover.statusPort})),
      bindPort: profile.http.port,
      statsPort: profile.compose.ports.stats ? STATS_PORT : undefined,
      resolvers: true,
    }),
  }
  if (profile.mqtt.bundled) {
    files[RENDERED.mosquitto] = renderMosquittoConfig({port: 1883, persistence: true, dataDir: '/mosquitto/data'})
  }
  return files
}

/** How to start it: the project name goes on the command line (docker-compose 1.29 has no top-level name). */
function composeUsage(profile: Profile): string {
  const p = profile.compose.project
  return `# Start (Compose v2 or docker-compose 1.29, from this directory, with the secrets in .env):\n#   docker compose -p ${p} up -d --build     or     docker-compose -p ${p} up -d --build\n`
}

/** The named volumes that hold the lease (render/lease-volume.ts checks that none is a network one). */
export function composeLeaseVolumes(profile: Profile): string[] {
  return composeLease(profile)?.volumes.map(v => v.name) ?? []
}

/** The lease backend's environment and volumes (load-balanced replicas: for their singletons, singleton-lease.ts). */
function composeLease(profile: Profile): ComposeLeasePiece | null {
  const backend = leaseBackend(profile.failover.lease)
  if (!backend.render.compose) throw new InputError(`failover.lease: ${backend.id} cannot serve target compose`, `use one of the lease backends for compose, or leave failover.lease out`)
  const piece = backend.render.compose
  return modeOf(profile.mode).singleActive ? piece(profile) : composeLeasePiece(() => piece(profile))
}

/** The agent's environment in every replica (values that are the same for all but the replica's name). */
export function composeEnvironment(profile: Profile, replica: string): Record<string, string> {
  const required = (env: string) => `\${${env}:?set ${env} to the same value for every replica, e.g. in .env beside compose.yaml}`
  return {
    [ENV.replica]: replica,
    [ENV.profile]: CONTAINER.profile,
    [ENV.settings]: CONTAINER.settings,
    [ENV.userDir]: CONTAINER.userDir,
    ...composeLease(profile)?.environment,
    [ENV.statusPort]: String(profile.failover.statusPort),
    // The container's own address: HAProxy checks /active or /healthz there (the agent's default is 127.0.0.1).
    [ENV.statusHost]: '0.0.0.0',
    [ENV.nodeRedPort]: String(profile.http.port),
    // Values come from the shell or deploy/.env at `docker compose up`; the rendered files hold only names.
    [profile.secrets.adminTokenEnv]: required(profile.secrets.adminTokenEnv),
    [profile.secrets.credentialSecretEnv]: required(profile.secrets.credentialSecretEnv),
    // Optional: when set, /status and /metrics need it as a bearer token.
    [profile.secrets.statusTokenEnv]: `\${${profile.secrets.statusTokenEnv}:-}`,
    ...sharedContextEnvironment(profile),
  }
}

/** The shared context store on PostgreSQL: its connection string, by name, from the shell or .env. */
function sharedContextEnvironment(profile: Profile): Record<string, string> {
  const shared = contextPlan(profile).shared
  if (shared?.backend !== 'postgres') return {}
  const env = shared.connectionStringEnv
  return {[env]: `\${${env}:?set ${env} to the PostgreSQL connection string of the shared context store, e.g. in .env beside compose.yaml}`}
}

/** The shared context store on sqlite: the volume every replica mounts at the database file's directory. */
function sharedContextVolume(profile: Profile): {name: string; mountPath: string} | null {
  const shared = contextPlan(profile).shared
  if (shared?.backend !== 'sqlite') return null
  const mountPath = sharedContextDir(shared)
  // the lease's shared volume may already be mounted there (the default: /var/lib/ff-ha, which the image
  // creates owned by node-red, so a fresh volume is writable): both files live in it
  if (composeLease(profile)?.volumes.some(v => v.mountPath === mountPath)) return null
  return {name: 'shared-context', mountPath}
}

/** Whole seconds, rounded up: docker-compose 1.29 passes a fraction to the engine, which refuses it. */
export function wholeSeconds(ms: number): string {
  return `${Math.ceil(ms / 1000)}s`
}

export type Service = Record<string, any>

/** The template's services, read fresh each time (templates/compose/compose.yaml). */
export function templateServices(): {replica: Service; haproxy: Service; mosquitto: Service} {
  const project = yamlTemplate('compose', 'compose.yaml')
  const {'node-red-0': replica, haproxy, mosquitto} = project.services
  return {replica, haproxy, mosquitto}
}

/** Host ports of replica i on the loopback: Node-RED's admin API and the agent's status server. */
export function replicaHostPorts(profile: Profile, index: number): {http: number; status: number} {
  return {http: profile.compose.ports.replicaHttp + index, status: profile.compose.ports.replicaStatus + index}
}

/** Every host port the project publishes, by what publishes it: two uses of one port are an input error. */
export function checkHostPorts(profile: Profile): void {
  const uses = new Map<number, string>()
  const claim = (port: number, what: string) => {
    if (port > 65535) throw new InputError(`profile: ${what} would publish host port ${port}, above 65535`, 'lower compose.ports.replicaHttp / replicaStatus')
    const other = uses.get(port)
    if (other) throw new InputError(`profile: ${what} and ${other} both publish host port ${port}`, 'choose compose.ports values that do not overlap (replica i uses replicaHttp + i and replicaStatus + i)')
    uses.set(port, what)
  }
  claim(profile.compose.ports.http, 'compose.ports.http (HAProxy)')
  if (profile.compose.ports.stats) claim(profile.compose.ports.stats, 'compose.ports.stats (HAProxy stats)')
  if (profile.mqtt.bundled) claim(profile.compose.ports.mqtt, 'compose.ports.mqtt (the bundled broker)')
  replicaNames(profile).forEach((name, i) => {
    const p = replicaHostPorts(profile, i)
    claim(p.http, `${name}'s Node-RED (compose.ports.replicaHttp + ${i})`)
    claim(p.status, `${name}'s agent (compose.ports.replicaStatus + ${i})`)
  })
}

const loopback = (host: number, container: number) => `127.0.0.1:${host}:${container}`

export function replicaService(base: Service, profile: Profile, replica: string, index: number, version: string): Service {
  const {build, ...rest} = base
  const healthUrl = `http://127.0.0.1:${profile.failover.statusPort}/healthz`
  const [cmd, node, flag, script] = base.healthcheck.test as string[]
  const host = replicaHostPorts(profile, index)
  const service: Service = {
    ...(profile.nodeRed.image ? {} : {build}),
    ...rest,
    image: replicaImage(profile, version),
    command: ['--replica', replica],
    hostname: replica,
    environment: composeEnvironment(profile, replica),
    volumes: [
      `${replica}-data:${CONTAINER.userDir}`,
      ...(composeLease(profile)?.volumes.map(v => `${v.name}:${v.mountPath}`) ?? []),
      ...[sharedContextVolume(profile)].filter(v => v !== null).map(v => `${v.name}:${v.mountPath}`),
      `./${RENDERED.profile}:${CONTAINER.profile}:ro`,
      `./${RENDERED.settings}:${CONTAINER.settings}:ro`,
    ],
    expose: [String(profile.http.port), String(profile.failover.statusPort)],
    ports: [loopback(host.http, profile.http.port), loopback(host.status, profile.failover.statusPort)],
    labels: {[COMPOSE_LABELS.replica]: replica, [COMPOSE_LABELS.profile]: profile.name},
    healthcheck: {...base.healthcheck, test: [cmd, node, flag, script.replace(/http:\/\/127\.0\.0\.1:\d+\/healthz/, healthUrl)]},
    // Give the agent the lease duration plus Node-RED's own shutdown before Docker kills it.
    stop_grace_period: wholeSeconds(Math.max(10_000, profile.failover.leaseDurationMs + 10_000)),
    mem_limit: profile.compose.memory.replica,
  }
  if (profile.mqtt.bundled) service.depends_on = {[MOSQUITTO_SERVICE]: {condition: 'service_healthy'}}
  return service
}

export function composeProject(profile: Profile, version: string): Record<string, unknown> {
  checkHostPorts(profile)
  const t = templateServices()
  const replicas = replicaNames(profile)
  const services: Record<string, unknown> = {}
  replicas.forEach((r, i) => (services[r] = replicaService(t.replica, profile, r, i, version)))
  const ports = [`${profile.compose.ports.http}:${profile.http.port}`]
  if (profile.compose.ports.stats) ports.push(loopback(profile.compose.ports.stats, STATS_PORT))
  services[HAPROXY_SERVICE] = {
    ...t.haproxy,
    ports,
    labels: {[COMPOSE_LABELS.profile]: profile.name},
    depends_on: Object.fromEntries(replicas.map(r => [r, {condition: 'service_started'}])),
    mem_limit: profile.compose.memory.haproxy,
  }
  if (profile.mqtt.bundled) {
    services[MOSQUITTO_SERVICE] = {
      ...t.mosquitto,
      ports: [loopback(profile.compose.ports.mqtt, 1883)],
      labels: {[COMPOSE_LABELS.profile]: profile.name},
      mem_limit: profile.compose.memory.mosquitto,
    }
  }
  const volumes: Record<string, unknown> = {}
  for (const r of replicas) volumes[`${r}-data`] = {}
  for (const v of composeLease(profile)?.volumes ?? []) volumes[v.name] = {}
  const context = sharedContextVolume(profile)
  if (context) volumes[context.name] = {}
  if (profile.mqtt.bundled) volumes['mosquitto-data'] = {}
  // No top-level name: docker-compose 1.29 rejects it. The project name is -p / COMPOSE_PROJECT_NAME.
  return {services, volumes}
}
