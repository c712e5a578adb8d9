import {stringify} from 'yaml'
import type {Profile} from '../profile/schema.js'
import {renderHaproxyConfig} from './haproxy.js'
import {renderMosquittoConfig} from './mosquitto.js'
import {COMPOSE_LABELS, CONTAINER, RENDERED, leaseDir, replicaImage, replicaNames} from './names.js'

const HAPROXY_IMAGE = 'haproxy:2.8-alpine'
const MOSQUITTO_IMAGE = 'eclipse-mosquitto:2.0'
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
    FF_HA_NODE_RED_PORT: String(profile.http.port),
    // Values come from the shell or deploy/.env at `docker compose up`; the rendered files hold only names.
    [profile.secrets.adminTokenEnv]: required(profile.secrets.adminTokenEnv),
    [profile.secrets.credentialSecretEnv]: required(profile.secrets.credentialSecretEnv),
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

function replicaService(profile: Profile, replica: string, version: string): Record<string, unknown> {
  const statusUrl = `http://127.0.0.1:${profile.failover.statusPort}/healthz`
  const build = profile.nodeRed.image ? {} : {build: {context: '.', dockerfile: RENDERED.dockerfile}}
  return {
    ...build,
    image: replicaImage(profile, version),
    command: ['--replica', replica],
    hostname: replica,
    environment: composeEnvironment(profile, replica),
    configs: [
      {source: 'ff-ha-profile', target: CONTAINER.profile},
      {source: 'node-red-settings', target: CONTAINER.settings},
    ],
    volumes: [
      `${replica}-data:${CONTAINER.userDir}`,
      ...(profile.mode === 'hot-spare' ? [`lease:${leaseDir(profile)}`] : []),
    ],
    expose: [String(profile.http.port), String(profile.failover.statusPort)],
    labels: {[COMPOSE_LABELS.replica]: replica, [COMPOSE_LABELS.profile]: profile.name},
    // The agent's /healthz: agent and Node-RED alive (a spare is healthy too; /active says who serves).
    healthcheck: {
      test: ['CMD', 'node', '-e', `fetch('${statusUrl}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
      interval: '5s',
      timeout: '2s',
      retries: 3,
      start_period: '60s',
      start_interval: '1s',
    },
    restart: 'unless-stopped',
    // SIGTERM: the agent stops flows, releases the lease (a spare takes over in one retry period) and stops
    // Node-RED; give it the lease duration plus Node-RED's own shutdown before Docker kills it.
    stop_grace_period: seconds(Math.max(10_000, profile.failover.leaseDurationMs + 10_000)),
    ...(profile.mqtt.bundled ? {depends_on: {[MOSQUITTO_SERVICE]: {condition: 'service_healthy'}}} : {}),
  }
}

export function composeProject(profile: Profile, version: string): Record<string, unknown> {
  const replicas = replicaNames(profile)
  const services: Record<string, unknown> = {}
  for (const r of replicas) services[r] = replicaService(profile, r, version)
  const ports = [`${profile.compose.ports.http}:${profile.http.port}`]
  if (profile.compose.ports.stats) ports.push(`${profile.compose.ports.stats}:${STATS_PORT}`)
  services[HAPROXY_SERVICE] = {
    image: HAPROXY_IMAGE,
    ports,
    configs: [{source: 'haproxy-cfg', target: '/usr/local/etc/haproxy/haproxy.cfg'}],
    // service_started, not service_healthy: HAProxy resolves replicas at run time and must come up (and stay
    // up) while a replica is down; its own checks decide where traffic goes.
    depends_on: Object.fromEntries(replicas.map(r => [r, {condition: 'service_started'}])),
    restart: 'unless-stopped',
    stop_grace_period: '5s',
  }
  if (profile.mqtt.bundled) {
    services[MOSQUITTO_SERVICE] = {
      image: MOSQUITTO_IMAGE,
      configs: [{source: 'mosquitto-conf', target: '/mosquitto/config/mosquitto.conf'}],
      volumes: ['mosquitto-data:/mosquitto/data'],
      expose: ['1883'],
      healthcheck: {
        test: ['CMD', 'mosquitto_sub', '-h', '127.0.0.1', '-p', '1883', '-t', '$$SYS/broker/uptime', '-C', '1', '-W', '3'],
        interval: '5s',
        timeout: '5s',
        retries: 3,
        start_period: '10s',
      },
      restart: 'unless-stopped',
    }
  }
  const volumes: Record<string, unknown> = {}
  for (const r of replicas) volumes[`${r}-data`] = {}
  // One host: the sqlite lease lives on a volume that every replica mounts.
  if (profile.mode === 'hot-spare') volumes.lease = {}
  if (profile.mqtt.bundled) volumes['mosquitto-data'] = {}
  const configs: Record<string, unknown> = {
    'ff-ha-profile': {file: `./${RENDERED.profile}`},
    'node-red-settings': {file: `./${RENDERED.settings}`},
    'haproxy-cfg': {file: `./${RENDERED.haproxy}`},
    ...(profile.mqtt.bundled ? {'mosquitto-conf': {file: `./${RENDERED.mosquitto}`}} : {}),
  }
  return {name: profile.compose.project, services, volumes, configs}
}
