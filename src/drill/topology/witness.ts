import {createServer} from 'node:net'
import type {Resources} from '../processes.js'

// The witness: an address on the root side of the netns bridge that accepts and closes connections. A
// replica cut off the network cannot reach it and must give up its lease (a file lease on one host is
// otherwise reachable from a partitioned replica). Returns host:port for the agents' profile.
export async function startWitness(host: string, resources: Resources): Promise<string> {
  const server = createServer(s => s.end())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  resources.onCleanup(() => new Promise<void>(r => server.close(() => r())))
  return `${host}:${(server.address() as {port: number}).port}`
}
