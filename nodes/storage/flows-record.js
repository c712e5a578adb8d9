// ff-ha's storage module for Node-RED (settings.storageModule): Node-RED's own localfilesystem, except that
// every save of the flows is first committed to the shared flows record through this replica's agent. Only
// a committed save is written to disk; a refused one throws, and Node-RED then applies nothing (its
// setFlows saves before it stops and starts anything). See docs/design/editor-deploy.md.
'use strict'
const crypto = require('crypto')
const http = require('http')
const {createRequire} = require('module')

/** Node-RED's own rev of a flows array (@node-red/runtime storage/index.js): sha256 of JSON.stringify. */
function revOf(flows) {
  return crypto.createHash('sha256').update(JSON.stringify(flows)).digest('hex')
}

/** Node-RED's localfilesystem storage, from the runtime that is running (red.js's own packages). */
function nodeRedLocalFilesystem() {
  const main = (require.main && require.main.filename) || process.argv[1]
  return createRequire(main)('@node-red/runtime/lib/storage/localfilesystem')
}

/** An error the admin API answers with err.status and {code, message}; the editor shows the message. */
function apiError(status, code, message) {
  const err = new Error(message)
  err.status = status
  err.code = code
  return err
}

/** POST the commit to the agent; resolves with {status, body}. */
function post(url, token, payload, timeoutMs) {
  const body = Buffer.from(JSON.stringify(payload))
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer ' + token},
      timeout: timeoutMs,
    }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        let parsed = null
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          // not JSON: the status says enough
        }
        resolve({status: res.statusCode, body: parsed})
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('no answer within ' + timeoutMs + ' ms')))
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * The storage module. options: {url: the agent's commit URL, token: the shared admin token, inner?: a storage
 * module to wrap (default Node-RED's localfilesystem), timeoutMs?}.
 */
function flowsRecordStorage(options) {
  const inner = options.inner || nodeRedLocalFilesystem()
  const timeoutMs = options.timeoutMs || 30000
  /** The rev of the flows this replica has (loaded or last saved): the commit's previousRev. */
  let currentRev = null
  /** Credentials Node-RED asked to save with the flows that follow (it calls saveCredentials first). */
  let pendingCredentials = null

  async function commit(flows, user) {
    const rev = revOf(flows)
    const credentials = pendingCredentials || (await inner.getCredentials())
    const credentialsChanged = pendingCredentials !== null
    pendingCredentials = null
    // Node-RED encrypts credentials with credentialSecret before it hands them to storage: only that form
    // may leave this process. Anything else would put plain credentials in the shared record.
    const keys = credentials && typeof credentials === 'object' ? Object.keys(credentials) : []
    if (keys.length > 0 && !(keys.length === 1 && keys[0] === '$' && typeof credentials.$ === 'string')) {
      throw apiError(500, 'ff_ha_plain_credentials', 'ff-ha: the credentials are not encrypted (no credentialSecret?); not sending them to the shared flows record. Nothing was deployed.')
    }
    const origin = user && user.username === 'ff-ha' ? 'api' : 'editor'
    let answer
    try {
      answer = await post(options.url, options.token, {previousRev: currentRev, rev, flows, credentials: keys.length ? credentials : null, credentialsChanged, origin}, timeoutMs)
    } catch (err) {
      throw apiError(503, 'ff_ha_record_unreachable', "ff-ha: this replica's agent did not take the deploy (" + err.message + '). Nothing was deployed: retry when the agent answers.')
    }
    const b = answer.body || {}
    if (answer.status === 200 && (b.result === 'committed' || b.result === 'current')) {
      return {rev, result: b.result, credentials: b.result === 'current' ? b.credentials : credentials, credentialsChanged}
    }
    if (answer.status === 409) {
      // Node-RED's own code for "the flows changed since you loaded them": the editor shows its conflict dialog.
      throw apiError(409, 'version_mismatch', 'ff-ha: another deploy reached the shared flows record first (rev ' + String(b.rev || '').slice(0, 8) + ' from ' + (b.replica || 'another replica') + '). Nothing was deployed here; this replica is being updated to it.')
    }
    throw apiError(503, 'ff_ha_record_unreachable', 'ff-ha: the shared flows record did not take the deploy: ' + (b.error || 'HTTP ' + answer.status) + '. Nothing was deployed.')
  }

  const storage = Object.assign({}, inner, {
    init: (settings, runtime) => inner.init(settings, runtime),
    async getFlows() {
      const flows = await inner.getFlows()
      currentRev = revOf(flows)
      return flows
    },
    async saveCredentials(credentials) {
      // Held until the commit of the flows that Node-RED saves next (storage/index.js saveFlows).
      pendingCredentials = credentials
    },
    async saveFlows(flows, user) {
      const done = await commit(flows, user)
      // The record's credentials when it already had this rev (an agent's convergence: Node-RED does not
      // save credentials it was given as an encrypted blob), else ours when they changed.
      if (done.credentials && (done.result === 'current' || done.credentialsChanged)) await inner.saveCredentials(done.credentials)
      await inner.saveFlows(flows, user)
      currentRev = done.rev
    },
  })
  // Projects would bypass saveFlows (ff-ha's settings turn them off).
  delete storage.projects
  return storage
}

module.exports = {flowsRecordStorage, revOf}
