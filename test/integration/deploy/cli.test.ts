// `ff-ha deploy` as a user runs it (oclif dev mode, bin/dev.js reads src/) against real Node-RED 4.1
// replicas: exit codes, stdout (data, --json) vs. stderr (progress, errors), and no secret in either.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {deployFlows} from '../../../src/deploy/deploy.js'
import {packageRoot} from '../../../src/paths.js'
import {probeFlows} from '../../../harness/deploy-flows.js'
import {startReplicas, type TestCluster} from '../../../harness/replicas.js'

let cluster: TestCluster
let dir: string

beforeAll(async () => {
  cluster = await startReplicas(2, {major: 4, prefix: 'cli'})
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-deploy-cli-'))
}, 90_000)
afterAll(async () => {
  await cluster?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

function ffha(args: string[], env: Record<string, string> = {}): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    // tsx by absolute path: the child runs in a temp dir, where a bare `--import tsx` does not resolve.
    const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
    const child = spawn(process.execPath, ['--import', tsx, join(packageRoot, 'bin', 'dev.js'), ...args], {
      cwd: dir,
      env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, CI: '1', NO_COLOR: '1', ...env},
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', c => (stdout += c))
    child.stderr.on('data', c => (stderr += c))
    child.on('error', reject)
    child.on('close', code => resolve({code, stdout, stderr}))
  })
}
const write = (name: string, value: unknown) => {
  writeFileSync(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value, null, 2))
  return name
}
const targets = () => cluster.targets().flatMap(t => ['--target', `${t.name}=${t.url}`])

describe('ff-ha deploy (CLI)', () => {
  it('--json prints the documented report on stdout, progress goes to stderr, exit 0, no token anywhere', async () => {
    const flows = write('flows.json', probeFlows('cli-json'))
    const out = await ffha(['deploy', flows, ...targets(), '--json'], {FF_HA_ADMIN_TOKEN: cluster.token})
    expect(out.code, out.stderr).toBe(0)
    const report = JSON.parse(out.stdout)
    expect(report).toMatchObject({ok: true, mode: 'hot-spare', replicas: [{name: 'cli-0', status: 'deployed'}, {name: 'cli-1', status: 'deployed'}]})
    expect(report.replicas[0].after).toEqual({rev: report.rev, state: 'stop'})
    expect(typeof report.durationMs).toBe('number')
    expect(out.stderr).toMatch(/ok {2}cli-0: runs rev [0-9a-f]{8}, flows stop/)
    expect(out.stdout + out.stderr).not.toContain(cluster.token)
  })

  it('a refused deploy exits 1 with one error line and a hint on stderr, and the report on stdout', async () => {
    const flows = write('flows2.json', probeFlows('cli-refused'))
    const out = await ffha(['deploy', flows, ...targets()], {FF_HA_ADMIN_TOKEN: 'wrong-token-value'})
    expect(out.code).toBe(1)
    expect(out.stderr).toContain('error refused before any change: cli-0, cli-1: GET /flows: not authorized (HTTP 401)\nhint  check the admin token')
    expect(out.stdout).toMatch(/^REPLICA +ROLE +BEFORE +AFTER +STATUS +TIME\ncli-0 +- +- +- +failed/)
    expect(out.stdout + out.stderr).not.toContain('wrong-token-value')
  })

  it('refuses flows with lint errors for the mode (file:line:col), and --no-lint deploys them; bad JSON is exit 2', async () => {
    const flows = write('lb.json', [
      {id: 'tab', type: 'tab', label: 'T'},
      {id: 'b', type: 'mqtt-broker', broker: '127.0.0.1', port: '1', clientid: ''},
      {id: 'in', type: 'mqtt in', z: 'tab', topic: 'sensors/#', qos: '1', broker: 'b', x: 100, y: 100, wires: [[]]},
    ])
    const env = {FF_HA_ADMIN_TOKEN: cluster.token}
    const refused = await ffha(['deploy', flows, ...targets(), '--mode', 'load-balanced'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/error lb\.json: 1 lint error for load-balanced, not deployed: lb\.json:\d+:\d+ mqtt-unshared-subscription /)
    expect(refused.stderr).toMatch(/--no-lint/)
    const forced = await ffha(['deploy', flows, ...targets(), '--mode', 'load-balanced', '--no-lint', '--strategy', 'parallel'], env)
    expect(forced.code, forced.stderr).toBe(0)
    const bad = await ffha(['deploy', write('bad.json', '[{"id": "a", "type": "tab"},\n  {"id": }]'), ...targets()], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^error bad\.json:2:\d+ not JSON/m)
  })

  it('takes the replicas, the flows file and the token variable from the profile, and --dry-run posts nothing', async () => {
    write('ff-ha.yaml', [
      'name: shop',
      'nodeRed: {flows: flows.json}',
      'secrets: {adminTokenEnv: SHOP_ADMIN_TOKEN}',
      'deploy:',
      '  replicas:',
      ...cluster.targets().map(t => `    - {name: ${t.name}, url: "${t.url}"}`),
    ].join('\n'))
    const base = await deployFlows({flows: probeFlows('cli-base'), replicas: cluster.targets(), auth: {token: cluster.token}, mode: 'hot-spare'})
    expect(base.ok, base.error).toBe(true)
    write('flows.json', probeFlows('cli-dry'))
    const before = await Promise.all(cluster.replicas.map(r => r.client.getFlows().then(f => f.rev)))
    const out = await ffha(['deploy', '--dry-run'], {SHOP_ADMIN_TOKEN: cluster.token})
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toMatch(/^dry run: rev [0-9a-f]{8}, nothing posted\ncli-0 \(rev [0-9a-f]{8}, stop, spare\): 0 added, 0 removed, 1 changed\n {2}~ probe-set change "tag"/)
    expect(await Promise.all(cluster.replicas.map(r => r.client.getFlows().then(f => f.rev)))).toEqual(before)
    // The local cluster file that failover-test writes (--discovery local).
    write('cluster.json', {replicas: cluster.targets().map(t => ({...t, agentUrl: undefined}))})
    const local = await ffha(['deploy', 'flows.json', '--discovery', 'local', '--cluster-file', 'cluster.json', '--dry-run', '--json'], {SHOP_ADMIN_TOKEN: cluster.token})
    expect(local.code, local.stderr).toBe(0)
    expect(JSON.parse(local.stdout).replicas.map((r: {name: string}) => r.name)).toEqual(['cli-0', 'cli-1'])
    expect(local.stderr).toContain('to 2 replicas from local (dry run)')
    const missing = await ffha(['deploy', '--dry-run'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('error SHOP_ADMIN_TOKEN is not set')
  })
})
