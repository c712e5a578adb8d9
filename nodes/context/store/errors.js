'use strict'
// Errors the shared context store raises. Each has a stable `code` so a flow (catch node) or a test can tell
// a refused write from a broken connection, and a one-line message that says what to do.

class SharedContextError extends Error {
  constructor(message, code) {
    super(message)
    this.name = 'SharedContextError'
    this.code = code
  }
}

/** A write carried a fencing token older than the newest the store has seen: a newer lease holder exists. */
class FencedWriteError extends SharedContextError {
  constructor(token, newest, domain) {
    super(`ff-ha shared context: write refused: fencing token ${token} is older than ${newest} (fence "${domain}"); this replica no longer holds the lease`, 'FF_HA_FENCED')
    this.name = 'FencedWriteError'
    this.token = token
    this.newest = newest
  }
}

/** The store is configured with a token provider but it has no token: this replica does not hold the lease. */
class NoTokenError extends SharedContextError {
  constructor(source) {
    super(`ff-ha shared context: write refused: no fencing token (${source}); this replica does not hold the lease`, 'FF_HA_NO_TOKEN')
    this.name = 'NoTokenError'
  }
}

/** An atomic operation met a value of the wrong type (e.g. increment of a string). */
class AtomicTypeError extends SharedContextError {
  constructor(message) {
    super(`ff-ha shared context: ${message}`, 'FF_HA_ATOMIC_TYPE')
    this.name = 'AtomicTypeError'
  }
}

/** Bad configuration in settings.js contextStorage.<name>.config. */
class ConfigError extends SharedContextError {
  constructor(message) {
    super(`ff-ha shared context: ${message}`, 'FF_HA_CONFIG')
    this.name = 'ConfigError'
  }
}

module.exports = {SharedContextError, FencedWriteError, NoTokenError, AtomicTypeError, ConfigError}
