import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {parse} from 'yaml'
import {composeCommand} from '../src/deploy/discovery/tool.js'
import {packageRoot} from '../src/paths.js'

// A rendered Compose project on a real Docker engine, for the integration test and bench/failover.
// The base images are LOCAL STAND-INS built by scripts/standin-images.sh (Debian packages and the host's
// Node, laid out like the official images), NOT the official nodered/node-red, haproxy and
// eclipse-mosquitto images: no registry is reachable on CI machines. The rendered files are used unmodified.

/** Why the Docker tests cannot run here, or undefined when an engine and a Compose CLI answer. */
export function dockerUnavailable(): string | undefined {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], {stdio: 'pipe', timeout: 20_000})
  } catch (err) {
    const why = String((err as {stderr?: unknown}).stderr ?? (err as Error).message).split('\n')[0]
    return `no Docker engine answers (${why.trim() || 'docker not found'})`
  }
  for (const cli of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(cli[0], [...cli.slice(1), 'version'], {stdio: 'pipe', timeout: 20_000})
      return undefined
    } catch {
      // try the next
    }
  }
  return 'neither `docker compose` nor `docker-compose` is installed'
}

export const HOW_TO_GET_DOCKER =
  'run .ci/run (it installs docker.io docker-compose debootstrap iptables and starts dockerd), or: apt-get install docker.io docker-compose debootstrap iptables && dockerd &'

/** The base images a rendered project names: FROM of the Dockerfile and the image: of the other services. */
export function baseImages(outDir: string): string[] {
  const dockerfile = readFileSync(join(outDir, 'Dockerfile'), 'utf8')
  const version = dockerfile.match(/^ARG NODE_RED_VERSION=(\S+)$/m)![1]
  const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1].replace('${NODE_RED_VERSION}', version))
  const project = parse(readFileSync(join(outDir, 'compose.yaml'), 'utf8')) as {services: Record<string, {image?: string; build?: unknown}>}
  const others = Object.values(project.services).filter(s => !s.build && s.image).map(s => s.image!)
  return [...new Set([...from, ...others])]
}

/** Build the stand-ins once per machine (the script caches by tag). */
export async function ensureStandins(images: string[]): Promise<void> {
  await execa(join(packageRoot, 'scripts', 'standin-images.sh'), images, {stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000})
}

export interface Stack {
  dir: string
  project: string
  compose: string[]
  env: NodeJS.ProcessEnv
  run(args: string[], timeoutMs?: number): Promise<{code: number; out: string}>
}

/** `compose -p <project> ...` in the rendered directory, with the secrets in the environment. */
export async function stack(dir: string, project: string, secrets: Record<string, string>): Promise<Stack> {
  const compose = await composeCommand()
  const env = {...process.env, ...secrets}
  writeFileSync(join(dir, '.env'), Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join(''))
  return {
    dir,
    project,
    compose,
    env,
    async run(args, timeoutMs = 600_000) {
      const r = await execa(compose[0], [...compose.slice(1), '-p', project, ...args], {cwd: dir, env, reject: false, all: true, timeout: timeoutMs})
      return {code: r.exitCode ?? 1, out: r.all ?? ''}
    },
  }
}

/** What the engine still holds for a project: containers, volumes, networks (empty after `down -v`). */
export async function leftovers(project: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`
  const list = async (args: string[]) => (await execa('docker', args, {reject: false})).stdout.split('\n').filter(Boolean)
  return [
    ...(await list(['ps', '-a', '--filter', label, '--format', 'container {{.Names}}'])),
    ...(await list(['volume', 'ls', '--filter', label, '--format', 'volume {{.Name}}'])),
    ...(await list(['network', 'ls', '--filter', label, '--format', 'network {{.Name}}'])),
  ]
}
