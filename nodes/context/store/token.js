'use strict'
// The fencing-token seam. The store asks for the writer's token at every write, inside the write's
// transaction, so a token that changes (a new lease tenure) is used from the next write on.
//
//   config.token      a function () => number | bigint | string | null | undefined (the agent's lease
//                     token; null/undefined means "this replica holds no lease": the write is refused)
//   config.tokenFile  a file holding the token as decimal digits; the agent rewrites it (atomically,
//                     by rename) at every tenure; missing or empty means no lease: the write is refused
//   neither           writes are not fenced (load-balanced mode: every replica writes; use the atomic
//                     operations there)
const {readFileSync} = require('node:fs')
const {ConfigError, NoTokenError} = require('./errors')

function parseToken(raw, source) {
  if (raw === null || raw === undefined) return null
  if (typeof raw === 'bigint' && raw >= 0n) return raw
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return BigInt(raw)
  if (typeof raw === 'string') {
    const text = raw.trim()
    if (text === '') return null
    if (/^\d{1,18}$/.test(text)) return BigInt(text)
  }
  throw new ConfigError(`fencing token from ${source} is not a non-negative integer: ${JSON.stringify(String(raw)).slice(0, 40)}`)
}

/**
 * Make the token provider from the store config: a function returning a BigInt, or null when writes are
 * not fenced. It throws NoTokenError when fencing is configured but no token is available.
 */
function tokenProvider(config) {
  if (config.token !== undefined && config.tokenFile !== undefined) {
    throw new ConfigError('set one of config.token and config.tokenFile, not both')
  }
  if (config.token !== undefined) {
    if (typeof config.token !== 'function') throw new ConfigError('config.token must be a function returning the lease token')
    return () => {
      const token = parseToken(config.token(), 'config.token()')
      if (token === null) throw new NoTokenError('config.token() returned none')
      return token
    }
  }
  if (config.tokenFile !== undefined) {
    if (typeof config.tokenFile !== 'string' || !config.tokenFile) throw new ConfigError('config.tokenFile must be a path')
    const file = config.tokenFile
    return () => {
      let text
      try {
        text = readFileSync(file, 'utf8')
      } catch (err) {
        throw new NoTokenError(`cannot read ${file}: ${err.code || err.message}`)
      }
      const token = parseToken(text, file)
      if (token === null) throw new NoTokenError(`${file} is empty`)
      return token
    }
  }
  return null
}

module.exports = {tokenProvider, parseToken}
