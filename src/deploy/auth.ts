import type {AdminAuth} from '../admin/types.js'
import {InputError} from '../errors.js'
import {registerSecret} from '../output/secrets.js'
import {ENV} from '../model/env.js'

export const DEFAULT_TOKEN_ENV = ENV.adminToken
export const DEFAULT_PASSWORD_ENV = ENV.adminPassword
export const DEFAULT_STATUS_TOKEN_ENV = ENV.statusToken

export interface AuthInput {
  /** Environment variable with the shared admin token (default FF_HA_ADMIN_TOKEN, or the profile's). */
  tokenEnv?: string
  /** Log in at /auth/token on each replica instead; the password comes from passwordEnv, never a flag. */
  username?: string
  passwordEnv?: string
  /** --no-auth: the replicas have no adminAuth (a development instance); send no credentials at all. */
  noAuth?: boolean
  env?: NodeJS.ProcessEnv
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

function checkEnvName(flag: string, name: string | undefined): void {
  if (name !== undefined && !ENV_NAME.test(name)) {
    throw new InputError(`${flag} ${JSON.stringify(name)}: not an environment variable name`, `give the variable's name (letters, digits and "_"), not its value, e.g. ${flag} MY_TOKEN`)
  }
}

/** The admin API credentials, from the environment only (a flag value would show in `ps`). */
export function resolveAuth(input: AuthInput): AdminAuth {
  const env = input.env ?? process.env
  checkEnvName('--token-env', input.tokenEnv)
  checkEnvName('--password-env', input.passwordEnv)
  if (input.noAuth) {
    if (input.username) throw new InputError('--no-auth and --username contradict each other', 'drop --no-auth to log in, or --username to send no credentials')
    return {}
  }
  if (input.username) {
    const passwordEnv = input.passwordEnv ?? DEFAULT_PASSWORD_ENV
    const password = env[passwordEnv]
    if (!password) throw new InputError(`--username ${input.username}: ${passwordEnv} is not set`, `export ${passwordEnv} with the password (it is never read from a flag)`)
    registerSecret(password)
    return {username: input.username, password}
  }
  const tokenEnv = input.tokenEnv ?? DEFAULT_TOKEN_ENV
  const token = env[tokenEnv]
  if (!token) {
    throw new InputError(`${tokenEnv} is not set: the admin API needs the shared admin token`, `export ${tokenEnv} (the token every replica's settings accept), or pass --token-env NAME, or --username with ${DEFAULT_PASSWORD_ENV}; a replica without adminAuth (a development instance) takes --no-auth`)
  }
  registerSecret(token)
  return {token}
}
