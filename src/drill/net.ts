import {connect} from 'node:net'
import {RemoteError} from '../errors.js'
import {pollUntil} from '../io/poll.js'

/** Wait until host:port accepts a TCP connection; exited() says the process that should listen is gone. */
export async function waitForPort(host: string, port: number, timeoutMs: number, exited: () => boolean = () => false): Promise<void> {
  await pollUntil(
    async () => {
      if (exited()) throw new RemoteError(`the process that should listen on ${host}:${port} exited`)
      return canConnect(host, port)
    },
    {timeoutMs, intervalMs: 25, what: `${host}:${port} accepting connections`},
  )
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({host, port})
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
