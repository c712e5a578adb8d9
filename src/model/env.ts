// The FF_HA_* environment: the contract between what render writes into a replica (Compose environment,
// Kubernetes env), what the agent reads (its flags' env bindings), what the agent passes to Node-RED and
// what the rendered settings.js reads (templates/node-red/settings.js spells these names too; keep them equal).
// One object, so a renamed variable is renamed for every side at once.

export const ENV = {
  // render -> agent
  replica: 'FF_HA_REPLICA',
  profile: 'FF_HA_PROFILE',
  settings: 'FF_HA_SETTINGS',
  userDir: 'FF_HA_USER_DIR',
  leaseFile: 'FF_HA_LEASE_FILE',
  leaseName: 'FF_HA_LEASE_NAME',
  // the etcd lease (failover.etcd): members' client URLs (comma-separated), key prefix, TLS file paths
  etcdEndpoints: 'FF_HA_ETCD_ENDPOINTS',
  etcdPrefix: 'FF_HA_ETCD_PREFIX',
  etcdCaFile: 'FF_HA_ETCD_CA_FILE',
  etcdCertFile: 'FF_HA_ETCD_CERT_FILE',
  etcdKeyFile: 'FF_HA_ETCD_KEY_FILE',
  statusPort: 'FF_HA_STATUS_PORT',
  statusHost: 'FF_HA_STATUS_HOST',
  nodeRedPort: 'FF_HA_NODE_RED_PORT',
  // agent or launcher -> Node-RED's settings.js
  nodeRedHost: 'FF_HA_NODE_RED_HOST',
  nodeRedLogLevel: 'FF_HA_NODE_RED_LOG_LEVEL',
  nodesDir: 'FF_HA_NODES_DIR',
  flowsRecordUrl: 'FF_HA_FLOWS_RECORD_URL',
  adminUser: 'FF_HA_ADMIN_USER',
  adminPasswordHash: 'FF_HA_ADMIN_PASSWORD_HASH',
  // the shared context store: the agent writes its lease token to this file (hot-spare fencing); a sqlite
  // store's file when not the profile's (local drills and tests)
  contextTokenFile: 'FF_HA_CONTEXT_TOKEN_FILE',
  contextPath: 'FF_HA_CONTEXT_PATH',
  // agent -> the ff-ha singleton node (read and removed from process.env by nodes/singleton.js at load)
  singletonUrl: 'FF_HA_SINGLETON_URL',
  singletonToken: 'FF_HA_SINGLETON_TOKEN',
  // the replica image -> the agent: the image's own Node-RED package
  nodeRedDir: 'FF_HA_NODE_RED_DIR',
  // agent -> its Node-RED child wrapper (removed before Node-RED starts)
  agentPid: 'FF_HA_AGENT_PID',
  agentFd: 'FF_HA_AGENT_FD',
  outerNodeOptions: 'FF_HA_OUTER_NODE_OPTIONS',
  livenessFile: 'FF_HA_LIVENESS_FILE',
  livenessSqlite: 'FF_HA_LIVENESS_SQLITE',
  // default names of the secrets (a profile may name others: secrets.*Env)
  adminToken: 'FF_HA_ADMIN_TOKEN',
  credentialSecret: 'FF_HA_CREDENTIAL_SECRET',
  statusToken: 'FF_HA_STATUS_TOKEN',
  adminPassword: 'FF_HA_ADMIN_PASSWORD',
  // the CLI itself
  compose: 'FF_HA_COMPOSE',
  debug: 'FF_HA_DEBUG',
  postgresBin: 'FF_HA_POSTGRES_BIN',
} as const

export type EnvKey = keyof typeof ENV
export type EnvName = (typeof ENV)[EnvKey]
