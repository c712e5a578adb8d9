// Node-RED settings for every ff-ha replica. One file for all replicas: what differs between them
// (port, host) comes from the environment. The line marked ff-ha:profile is the only hole; ff-ha render
// fills it from ff-ha.yaml.
'use strict'
const crypto = require('crypto')

const profile = {"flowFile":"flows.json","adminRoot":"/","contextStorage":"memory","editor":true,"port":1880,"apiMaxLength":"50mb","adminTokenEnv":"FF_HA_ADMIN_TOKEN","credentialSecretEnv":"FF_HA_CREDENTIAL_SECRET","extra":{}} // ff-ha:profile

const adminToken = process.env[profile.adminTokenEnv]
const credentialSecret = process.env[profile.credentialSecretEnv]
// Replicas must share credentialSecret: without it each one generates its own key and cannot read the
// credentials that a deploy sends to all. Refuse to start rather than run with a private key.
if (!credentialSecret) throw new Error('ff-ha: ' + profile.credentialSecretEnv + ' is not set; every replica needs the same credential secret')
// Tokens from /auth/token live in one replica's .sessions.json; a deploy to many replicas uses one shared
// token, accepted here by every replica.
if (!adminToken) throw new Error('ff-ha: ' + profile.adminTokenEnv + ' is not set; the admin API must not run without auth')

function sameSecret(given, expected) {
  const a = Buffer.from(String(given))
  const b = Buffer.from(String(expected))
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}

// Optional editor login (username and bcrypt hash, e.g. from `node-red admin hash-pw`).
const users = process.env.FF_HA_ADMIN_USER && process.env.FF_HA_ADMIN_PASSWORD_HASH
  ? [{username: process.env.FF_HA_ADMIN_USER, password: process.env.FF_HA_ADMIN_PASSWORD_HASH, permissions: '*'}]
  : []

// ff-ha's shared context store (nodeRed.contextStorage: shared; docs/design/shared-context.md): every replica
// reads and writes the same data. Its connection string is a secret, read here and removed below like the others.
const shared = profile.sharedContext || null
function sharedContextStore() {
  const nodesDir = process.env.FF_HA_NODES_DIR
  if (!nodesDir) throw new Error('ff-ha: FF_HA_NODES_DIR is not set; the shared context store ships with ff-ha, and ff-ha agent sets it')
  const config = {backend: shared.backend, fenceDomain: shared.fenceDomain}
  if (shared.backend === 'sqlite') config.path = process.env.FF_HA_CONTEXT_PATH || shared.path
  else {
    config.connectionString = process.env[shared.connectionStringEnv]
    if (!config.connectionString) throw new Error('ff-ha: ' + shared.connectionStringEnv + ' is not set; the shared context store needs the PostgreSQL connection string')
  }
  // Hot-spare: every write carries the lease token the agent keeps in this file; a spare has none and is refused.
  if (shared.fenced) {
    config.tokenFile = process.env.FF_HA_CONTEXT_TOKEN_FILE
    if (!config.tokenFile) throw new Error('ff-ha: FF_HA_CONTEXT_TOKEN_FILE is not set; in hot-spare mode the shared context store must run under ff-ha agent')
  }
  return {module: require(require('path').join(nodesDir, 'context', 'store')), config}
}
const contextStorage = !shared
  ? {default: {module: profile.contextStorage}}
  : profile.contextStorage === 'shared'
    ? {default: 'shared', shared: sharedContextStore(), memory: {module: 'memory'}}
    : {default: {module: profile.contextStorage}, shared: sharedContextStore()}

// Flows read the environment (env.get, $env in JSONata, a change node's env type) and so do the processes
// they spawn (exec): the secrets are read above and must not stay there. Node-RED reads process.env live,
// so deleting them here, before any flow runs, hides them from every flow and child process.
for (const name of [profile.adminTokenEnv, profile.credentialSecretEnv, 'FF_HA_ADMIN_PASSWORD_HASH']) delete process.env[name]
if (shared && shared.backend === 'postgres') delete process.env[shared.connectionStringEnv]

module.exports = {
  uiPort: Number(process.env.FF_HA_NODE_RED_PORT || profile.port),
  uiHost: process.env.FF_HA_NODE_RED_HOST || '0.0.0.0',
  // Explicit, else Node-RED uses flows_<hostname>.json, a different file in every pod.
  flowFile: profile.flowFile,
  flowFilePretty: true,
  // The largest admin API request (a deploy's POST /flows): Node-RED's default 5mb refuses larger flows files with HTTP 413.
  apiMaxLength: profile.apiMaxLength,
  credentialSecret,
  // The agent stops and starts flows through POST /flows/state; the stop state is persisted and honoured
  // at boot, which is what keeps a spare's flows stopped. No button in the editor: only the agent decides.
  runtimeState: {enabled: true, ui: false},
  diagnostics: {enabled: true, ui: false},
  httpAdminRoot: profile.adminRoot,
  disableEditor: !profile.editor,
  adminAuth: {
    type: 'credentials',
    users,
    tokens: function (token) {
      return Promise.resolve(sameSecret(token, adminToken) ? {username: 'ff-ha', permissions: '*'} : null)
    },
  },
  contextStorage,
  logging: {console: {level: process.env.FF_HA_NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false}},
  editorTheme: {tours: false, projects: {enabled: false}},
  // ff-ha's own nodes (`ff-ha mqtt in`: acks MQTT messages only when the flow is done with them). The process
  // that starts Node-RED (ff-ha's agent, src/nodered/launch.ts) passes the directory of the installed package.
  nodesDir: process.env.FF_HA_NODES_DIR ? [process.env.FF_HA_NODES_DIR] : [],
  // Under ff-ha's agent, every save of the flows is committed to the shared flows record first, so that a
  // Deploy from this editor reaches every replica (docs/design/editor-deploy.md in ff-ha).
  ...(process.env.FF_HA_FLOWS_RECORD_URL && process.env.FF_HA_NODES_DIR
    ? {storageModule: require(process.env.FF_HA_NODES_DIR + '/storage/flows-record.js').flowsRecordStorage({url: process.env.FF_HA_FLOWS_RECORD_URL, token: adminToken})}
    : {}),
  ...profile.extra,
}
