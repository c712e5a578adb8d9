import {stringify} from 'yaml'
import type {Profile} from '../profile/schema.js'
import {renderHaproxyConfig} from './haproxy.js'
import {renderMosquittoConfig} from './mosquitto.js'
import {yamlTemplate} from './template.js'
import {COMPOSE_LABELS, CONTAINER, RENDERED, leaseDir, replicaImage, replicaNames} from './names.js'

export const MOSQUITTO_SERVICE = 'mosquitto'
export const HAPROXY_SERVICE = 'haproxy'
const STATS_PORT = 8404

/** compose.yaml, haproxy.cfg and (bundled broker) mosquitto.conf, keyed by path under --out. */
export function renderComposeFiles(profile: Profile, version: string): Record<string, string> {
  const files: Record<string, string> = {
    [RENDERED.compose]: stringify(composeProject(profile, version), {lineWidth: 0, aliasDuplicateObjects: false}),
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

/** The agent's environment in every replica (values that are the same for all but FF_HA_REPLICA). */
export function composeEnvironment(profile: Profile, replica: string): Record<string, string> {
  const required = (env: string) => `\${${env}:?set ${env} to the same value for every replica, e.g. in .env beside compose.yaml}`
  return {
    FF_HA_REPLICA: replica,
    FF_HA_PROFILE: CONTAINER.profile,
    FF_HA_SETTINGS: CONTAINER.settings,
    FF_HA_USER_DIR: CONTAINER.userDir,
    ...(profile.mode === 'hot-spare' ? {FF_HA_LEASE_FILE: profile.failover.leaseFile} : {}),
    FF_HA_STATUS_PORT: String(profile.failover.statusPort),
    // The container's own address: HAProxy checks /active or /healthz there (the agent's default is 127.0.0.1).
    FF_HA_STATUS_HOST: '0.0.0.0',
    FF_HA_NODE_RED_PORT: String(profile.http.port),
    // Values come from the shell or deploy/.env at `docker compose up`; the rendered files hold only names.
    [profile.secrets.adminTokenEnv]: required(profile.secrets.adminTokenEnv),
    [profile.secrets.credentialSecretEnv]: required(profile.secrets.credentialSecretEnv),
    // Optional: when set, /status and /metrics need it as a bearer token.
    [profile.secrets.statusTokenEnv]: `\${${profile.secrets.statusTokenEnv}:-}`,
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

type Service = Record<string, any>

/** The template's services, read fresh each time (templates/compose/compose.yaml). */
function templateServices(): {replica: Service; haproxy: Service; mosquitto: Service; project: Service} {
  const project = yamlTemplate('compose', 'compose.yaml')
  const {'node-red-0': replica, haproxy, mosquitto} = project.services
  return {replica, haproxy, mosquitto, project}
}

function replicaService(base: Service, profile: Profile, replica: string, version: string): Service {
  const {build, ...rest} = base
  const healthUrl = `http://127.0.0.1:${profile.failover.statusPort}/healthz`
  const [cmd, node, flag, script] = base.healthcheck.test as string[]
  const service: Service = {
    ...(profile.nodeRed.image ? {} : {build}),
    ...rest,
    image: replicaImage(profile, version),
    command: ['--replica', replica],
    hostname: replica,
    environment: composeEnvironment(profile, replica),
    volumes: [`${replica}-data:${CONTAINER.userDir}`, ...(profile.mode === 'hot-spare' ? [`lease:${leaseDir(profile)}`] : [])],
    expose: [String(profile.http.port), String(profile.failover.statusPort)],
    ports: (base.ports as Service[]).map((port, i) => ({...port, target: [profile.http.port, profile.failover.statusPort][i]})),
    labels: {[COMPOSE_LABELS.replica]: replica, [COMPOSE_LABELS.profile]: profile.name},
    healthcheck: {...base.healthcheck, test: [cmd, node, flag, script.replace(/http:\/\/127\.0\.0\.1:\d+\/healthz/, healthUrl)]},
    // Give the agent the lease duration plus Node-RED's own shutdown before Docker kills it.
    stop_grace_period: seconds(Math.max(10_000, profile.failover.leaseDurationMs + 10_000)),
  }
  if (profile.mqtt.bundled) service.depends_on = {[MOSQUITTO_SERVICE]: {condition: 'service_healthy'}}
  return service
}

export function composeProject(profile: Profile, version: string): Record<string, unknown> {
  const t = templateServices()
  const replicas = replicaNames(profile)
  const services: Record<string, unknown> = {}
  for (const r of replicas) services[r] = replicaService(t.replica, profile, r, version)
  const ports = [`${profile.compose.ports.http}:${profile.http.port}`]
  if (profile.compose.ports.stats) ports.push(`${profile.compose.ports.stats}:${STATS_PORT}`)
  services[HAPROXY_SERVICE] = {
    ...t.haproxy,
    ports,
    depends_on: Object.fromEntries(replicas.map(r => [r, {condition: 'service_started'}])),
  }
  if (profile.mqtt.bundled) services[MOSQUITTO_SERVICE] = t.mosquitto
  const volumes: Record<string, unknown> = {}
  for (const r of replicas) volumes[`${r}-data`] = {}
  // One host: the sqlite lease lives on a volume that every replica mounts.
  if (profile.mode === 'hot-spare') volumes.lease = {}
  if (profile.mqtt.bundled) volumes['mosquitto-data'] = {}
  const configs: Record<string, unknown> = {...t.project.configs}
  if (!profile.mqtt.bundled) delete configs['mosquitto-conf']
  return {name: profile.compose.project, services, volumes, configs}
}
