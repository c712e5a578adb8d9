// One process of the lease-store conformance suite (lease-conformance.ts): opens the store that the backend's
// factory module opens from the spec, says "ready", waits for "go" on stdin (so that every process starts its
// work at once, whatever its start-up took), works, and prints one JSON line with what it saw.
import {createInterface} from 'node:readline'
import type {LeaseStoreFactory} from './lease-conformance.js'

const [factoryUrl, specJson, mode, identity, roundsText] = process.argv.slice(2)
const factory = ((await import(factoryUrl)) as {default: LeaseStoreFactory}).default
const store = await factory.open(JSON.parse(specJson))
const lines = createInterface({input: process.stdin})
const go = new Promise<void>(resolve => lines.once('line', () => resolve()))
process.stdout.write('ready\n')
await go
lines.close()

if (mode === 'create') {
  // Everyone creates the lease (version null: "there was no record"), as agents that all read a 404 do:
  // exactly one may win.
  const obs = await store.read()
  const now = Date.now()
  const version = await store.write({holder: identity, leaseDurationMs: 2000, acquireTime: now, renewTime: now, transitions: 1}, null)
  process.stdout.write(JSON.stringify({identity, sawRecord: obs.record !== null, created: version !== null}) + '\n')
} else {
  // race: take the lease over (a new tenure, token + 1) as often as possible, each time with the version read.
  const won: number[] = []
  let conflicts = 0
  for (let i = 0; i < Number(roundsText); i++) {
    const obs = await store.read()
    const token = (obs.record?.transitions ?? 0) + 1
    const now = Date.now()
    const version = await store.write({holder: identity, leaseDurationMs: 2000, acquireTime: now, renewTime: now, transitions: token}, obs.version)
    if (version === null) conflicts++
    else won.push(token)
    if (i % 7 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  process.stdout.write(JSON.stringify({identity, won, conflicts}) + '\n')
}
await store.close()
