import {WebSocket, type Dispatcher} from 'undici'
import {AdminError} from './errors.js'

export interface RuntimeDeployWait {
  replica: string
  /** Admin API base URL (with the admin root), e.g. http://127.0.0.1:1880/ */
  url: string
  /** The admin token, ONLY for a replica that has adminAuth (see AdminClient.adminAuthEnabled). */
  token?: string
  rev: string
  timeoutMs: number
  dispatcher?: Dispatcher
}

/**
 * Wait for Node-RED's `runtime-deploy` notification for `rev` on the editor's comms websocket. Node-RED
 * emits it (retained) only once start() has finished starting the new flows, whereas GET /flows/state says
 * `start` as soon as starting begins: this is the one signal that the flows are up. Resolves true when
 * seen, false when comms is not there (editor disabled: no websocket), so the caller can fall back.
 */
export function waitForRuntimeDeploy(options: RuntimeDeployWait): Promise<boolean> {
  const url = new URL('comms', options.url.endsWith('/') ? options.url : options.url + '/')
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return new Promise((resolve, reject) => {
    // In: the websocket opened and (with a token) Node-RED accepted it. Before that, a failure means
    // "comms is not available here"; after it, the connection was lost.
    let authed = false
    let done = false
    const ws = new WebSocket(url, options.dispatcher ? {dispatcher: options.dispatcher} : undefined)
    const finish = (value: boolean | Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      try {
        ws.close()
      } catch {
        // already closed
      }
      if (value instanceof Error) reject(value)
      else resolve(value)
    }
    const timer = setTimeout(
      () => finish(new AdminError(options.replica, 'timeout', `did not report its flows started (runtime-deploy of rev ${options.rev.slice(0, 8)}) within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    )
    const subscribe = () => ws.send(JSON.stringify({subscribe: 'notification/runtime-deploy'}))
    ws.addEventListener('open', () => {
      // Only to a replica with adminAuth (the caller asks GET auth/login): Node-RED 4.1 without adminAuth
      // throws an uncaught TypeError on an {"auth"} message and the whole process exits.
      if (options.token) ws.send(JSON.stringify({auth: options.token}))
      else {
        authed = true
        subscribe()
      }
    })
    ws.addEventListener('message', event => {
      let msg: unknown
      try {
        msg = JSON.parse(String(event.data))
      } catch {
        return
      }
      if (!Array.isArray(msg)) {
        const auth = (msg as {auth?: string})?.auth
        if (auth === 'ok') {
          authed = true
          subscribe()
        } else if (auth === 'fail') {
          finish(new AdminError(options.replica, 'unauthorized', 'comms websocket: not authorized'))
        }
        return
      }
      for (const m of msg as Array<{topic?: string; data?: {revision?: string}}>) {
        if (m?.topic === 'notification/runtime-deploy' && m.data?.revision === options.rev) finish(true)
      }
    })
    // No websocket (editor disabled) or it dropped before we were in: say "not available", not an error.
    ws.addEventListener('error', () => finish(authed ? new AdminError(options.replica, 'unreachable', 'comms websocket failed') : false))
    ws.addEventListener('close', () => finish(authed ? new AdminError(options.replica, 'unreachable', 'comms websocket closed before the flows were reported started') : false))
  })
}
