// A throwaway PostgreSQL server for tests, benches and local drills: initdb in a temporary directory,
// pg_ctl start on a free loopback port, trust authentication, removed by stop(). PostgreSQL refuses to
// run as root, so as root the server runs as the `postgres` system user (runuser).
import {chownSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {RemoteError} from '../errors.js'
import {freePort} from '../net/free-port.js'
import {runCommandSync} from '../process/run.js'
import {ENV} from '../model/env.js'

export const POSTGRES_BIN = process.env[ENV.postgresBin] ?? '/usr/lib/postgresql/15/bin'
export const POSTGRES_HINT = 'install Debian\'s PostgreSQL 15 (apt-get install -y postgresql) or set FF_HA_POSTGRES_BIN to a directory holding initdb and pg_ctl'

export interface PostgresServer {
  port: number
  /** postgres://ffha@127.0.0.1:PORT/ffha */
  connectionString: string
  dir: string
  stop(): void
}

/** Whether initdb and pg_ctl are here; when not, say why in one line. */
export function postgresMissing(): string | null {
  for (const tool of ['initdb', 'pg_ctl']) {
    if (!existsSync(join(POSTGRES_BIN, tool))) return `${join(POSTGRES_BIN, tool)} not found: ${POSTGRES_HINT}`
  }
  return null
}

function run(tool: string, args: string[], asUser: string | null, cwd: string): void {
  const file = join(POSTGRES_BIN, tool)
  // no timeout: initdb and pg_ctl -w bound themselves (pg_ctl -t 60)
  const r = asUser ? runCommandSync('runuser', ['-u', asUser, '--', file, ...args], {cwd, timeoutMs: 0}) : runCommandSync(file, args, {cwd, timeoutMs: 0})
  if (!r.ok) throw new RemoteError(`${tool} failed: ${(r.stderr || r.why).trim().split('\n').slice(-2).join(' ')}`, {hint: POSTGRES_HINT})
}

export async function startPostgres(): Promise<PostgresServer> {
  const missing = postgresMissing()
  if (missing) throw new RemoteError(missing)
  const asUser = userInfo().uid === 0 ? 'postgres' : null
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-pg-'))
  if (asUser) {
    const uid = Number(runCommandSync('id', ['-u', asUser]).stdout)
    const gid = Number(runCommandSync('id', ['-g', asUser]).stdout)
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'ffha', '--no-sync', '-E', 'UTF8'], asUser, dir)
  const port = await freePort()
  // fsync off: a test server, not a durable one
  run('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start'], asUser, dir)
  const server: PostgresServer = {
    port,
    dir,
    connectionString: `postgres://ffha@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'], asUser, dir)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    },
  }
  return server
}
