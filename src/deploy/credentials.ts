import {readFileSync} from 'node:fs'
import type {Credentials, FlowNode} from '../admin/types.js'
import {InputError} from '../errors.js'
import {registerSecret} from '../output/secrets.js'

/**
 * Read node credentials: plaintext JSON by node id, `{"<id>": {"user": "...", "password": "..."}}`.
 * Every string value is registered as a secret the moment it is read, so no output can carry it.
 */
export function readCredentialsFile(file: string): Credentials {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as {code?: string}).code
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : 'cannot read it'}`, 'check the --credentials path')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // No excerpt of the text: it holds secrets.
    throw new InputError(`${file}: not JSON`, 'a credentials file is a JSON object of node credentials by node id')
  }
  return checkCredentials(value, file)
}

export function checkCredentials(value: unknown, file = 'credentials'): Credentials {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${file}: must be a JSON object of node credentials by node id`, 'e.g. {"<node id>": {"user": "...", "password": "..."}}')
  }
  if ('$' in value) {
    throw new InputError(
      `${file}: is an encrypted credentials blob ({"$": ...}); Node-RED does not write it to disk when it comes in a v2 POST`,
      'give the plaintext credentials by node id (sent over TLS), or mount flows_cred.json with the shared credentialSecret',
    )
  }
  for (const [id, creds] of Object.entries(value)) {
    if (!creds || typeof creds !== 'object' || Array.isArray(creds)) throw new InputError(`${file}: credentials of node "${id}" must be an object`, 'e.g. {"<node id>": {"user": "...", "password": "..."}}')
    for (const v of Object.values(creds)) if (typeof v === 'string') registerSecret(v)
  }
  return value as Credentials
}

/** Credentials for a node that the flows do not have would be dropped: say so instead. */
export function checkCredentialsMatchFlows(credentials: Credentials, flows: FlowNode[]): void {
  const ids = new Set(flows.map(n => n.id))
  const unknown = Object.keys(credentials).filter(id => !ids.has(id))
  if (unknown.length > 0) {
    throw new InputError(`credentials for node${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map(id => `"${id}"`).join(', ')} not in the flows file`, 'check the node ids in the credentials file')
  }
}
