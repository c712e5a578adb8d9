import {execa} from 'execa'
import {RemoteError} from '../../errors.js'
import {ENV} from '../../model/env.js'

export interface ToolRun {
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
}

/** Run docker / kubectl and return stdout; a failure becomes a RemoteError that says what happened in words. */
export async function runTool(command: string, args: string[], options: ToolRun = {}): Promise<string> {
  const result = await execa(command, args, {
    reject: false,
    env: options.env,
    extendEnv: options.env === undefined,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 30_000,
    stdin: 'ignore',
  })
  if (!result.failed) return result.stdout
  throw new RemoteError(explainToolFailure(command, args, result), {hint: hintFor(command, result)})
}

/**
 * The Compose command line on this machine: Compose v2 (`docker compose`) when the plugin answers, else
 * docker-compose 1.x (Debian 12 and Raspberry Pi OS ship 1.29). $FF_HA_COMPOSE ("docker compose" or
 * "docker-compose") chooses. ff-ha's own tools need neither (they ask the engine with `docker`); this is
 * for bringing a rendered project up and down.
 */
export async function composeCommand(options: ToolRun = {}): Promise<string[]> {
  const chosen = (options.env ?? process.env)[ENV.compose]?.trim()
  if (chosen) return chosen.split(/\s+/)
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const ok = await runTool(candidate[0], [...candidate.slice(1), 'version'], {...options, timeoutMs: 15_000}).then(() => true, () => false)
    if (ok) return candidate
  }
  throw new RemoteError('neither `docker compose` (Compose v2) nor `docker-compose` answers', {hint: 'install Docker with the compose plugin, or docker-compose (apt-get install docker-compose)'})
}

export interface ToolFailure {
  code?: string
  exitCode?: number
  signal?: string
  stderr?: unknown
  timedOut?: boolean
  originalMessage?: string
}

/** zx-style: 127 is "not found", a signal by its name, the first line of stderr, never a bare number. */
export function explainToolFailure(command: string, args: string[], r: ToolFailure): string {
  const cmdline = [command, ...args.slice(0, 3)].join(' ')
  if (r.code === 'ENOENT' || r.exitCode === 127) return `\`${command}\` not found (exit 127: command not found): is it installed and on PATH?`
  if (r.code === 'EACCES' || r.exitCode === 126) return `\`${command}\` is not executable (exit 126: permission denied)`
  if (r.timedOut) return `\`${cmdline}\` did not finish in time and was stopped`
  const why = firstLine(r.stderr)
  if (r.signal) return `\`${cmdline}\` was killed by ${r.signal}${why ? `: ${why}` : ''}`
  if (r.exitCode !== undefined) return `\`${cmdline}\` failed with exit code ${r.exitCode}${why ? `: ${why}` : ''}`
  return `\`${cmdline}\` failed: ${r.originalMessage ?? 'unknown error'}`
}

function hintFor(command: string, r: ToolFailure): string {
  if (r.code === 'ENOENT' || r.exitCode === 127) {
    return command === 'docker' ? 'install Docker, or pass --target URL' : command === 'docker-compose' ? 'apt-get install docker-compose, or install the Compose v2 plugin' : 'install kubectl and set its context, or pass --target URL'
  }
  return command === 'kubectl' ? 'check the kubectl context and namespace (kubectl get pods)' : 'check that the Docker engine runs and the project is up (docker ps)'
}

export function firstLine(text: unknown): string {
  return typeof text === 'string' ? (text.split('\n').map(s => s.trim()).find(Boolean) ?? '').slice(0, 200) : ''
}
