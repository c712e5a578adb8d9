import {RemoteError} from '../errors.js'

export type AdminErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'too-many-logins'
  | 'conflict'
  | 'state-api-disabled'
  | 'server-error'
  | 'bad-response'
  | 'too-large'

const hints: Record<AdminErrorKind, string> = {
  unreachable: 'check that the replica runs and that the URL and port are right',
  timeout: 'the replica did not answer in time; is it overloaded or paused?',
  unauthorized: 'check the admin token (FF_HA_ADMIN_TOKEN) or the username and password',
  'too-many-logins': 'Node-RED allows 5 logins per user in 10 minutes; use the shared admin token instead',
  conflict: 'someone deployed in between; run again, or pass --force to deploy over it',
  'state-api-disabled': 'set runtimeState: {enabled: true} in settings.js (ff-ha render does)',
  'server-error': 'see the replica\'s log',
  'bad-response': 'is this URL a Node-RED admin API? check --target and the admin root',
  'too-large':
    'a flows file this large needs a larger limit on both sides: raise nodeRed.apiMaxLength in the profile, render and restart the replicas (ff-ha deploy reads answers up to that size too); or is this URL a Node-RED admin API?',
}

/** A failed admin API call, naming the replica. Never carries a secret. */
export class AdminError extends RemoteError {
  readonly kind: AdminErrorKind
  readonly status?: number
  constructor(replica: string, kind: AdminErrorKind, message: string, status?: number) {
    super(`${replica}: ${message}`, {replica, hint: hints[kind]})
    this.kind = kind
    this.status = status
  }
}
