import {redact} from '../output/secrets.js'

/** One JSON line per event on stdout: {"ts", "replica", "event", ...fields}. Secrets are scrubbed. */
export type AgentLog = (event: string, fields?: Record<string, unknown>) => void

export function jsonLog(replica: string, write: (line: string) => void = line => process.stdout.write(line)): AgentLog {
  return (event, fields = {}) => {
    write(redact(JSON.stringify({ts: new Date().toISOString(), replica, event, ...fields})) + '\n')
  }
}
