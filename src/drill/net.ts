import {connect} from 'node:net'
import {sleep} from './clock.js'
import {RemoteError, TimeoutError} from '../errors.js'

/** Wait until host:port accepts a TCP connection. */
export async function waitForPort(host: string, port: number, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (gaveUp()) throw new RemoteError(`the process meant to listen on ${host}:${port} exited`, {hint: 'see its log'})
    if (await canConnect(host, port)) return
    await sleep(25)
  }
  throw new TimeoutError(`${host}:${port} did not accept connections within ${timeoutMs} ms`, timeoutMs, {hint: 'see the log of the process meant to listen there'})
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
