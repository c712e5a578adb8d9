import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../src/paths.js'
import {HOW_TO_GET_DOCKER, baseImages, dockerUnavailable, ensureStandins, leftovers, stack, type Stack} from '../../../harness/compose-stack.js'
import {runCli, type DrillJson} from '../drill/helpers.js'

// The rendered Compose project on a real Docker engine (Debian's docker.io 20.10 and docker-compose 1.29 in
// CI): render, build the replica image from this repository, `up`, one active, `ff-ha deploy --discovery
// compose`, the drill with every compose scenario in both modes, `down -v`, nothing left.
// The base images are LOCAL STAND-INS (scripts/standin-images.sh: Debian packages and the host's Node, laid
// out like the official images), NOT the official nodered/node-red, haproxy and eclipse-mosquitto images:
// no image registry is reachable here. The rendered files are used unmodified.
// Without Docker this file does not run, and says so loudly (in CI, FF_HA_REQUIRE_DOCKER=1 makes that a failure).
const why = dockerUnavailable()
if (why) {
  const line = `NOT RUN: test/integration/compose (the rendered Compose project on a real Docker engine): ${why}. To run it: ${HOW_TO_GET_DOCKER}`
  if (process.env.FF_HA_REQUIRE_DOCKER === '1') throw new Error(line)
  console.warn(`\n${'!'.repeat(100)}\n${line}\n${'!'.repeat(100)}\n`)
}

const SECRETS = {FF_HA_ADMIN_TOKEN: 'ci-admin-token-0123456789abcdef0123', FF_HA_CREDENTIAL_SECRET: 'ci-credential-secret-0123456789abcdef'}
// ports of their own, so that the test does not collide with a user's stack on the defaults
const profileText = (mode: 'hot-spare' | 'load-balanced', base: number) => `name: ffha-ci
mode: ${mode}
replicas: 2
mqtt:
  broker: mqtt://mosquitto:1883
  bundled: true
compose:
  project: ffha-ci-${mode === 'hot-spare' ? 'hs' : 'lb'}
  ports: {http: ${base}, stats: ${base + 1}, mqtt: ${base + 2}, replicaHttp: ${base + 10}, replicaStatus: ${base + 20}}
slo:
  maxMttrMs: 15000
  # in-flight QoS 1 messages can be lost at a crash (Node-RED acks on arrival); asserted below instead
  maxLostMessages: 100000
  maxDualActiveMs: 0
`
const SCENARIOS = 'crash,replica-crash,hang,freeze,graceful,deploy'
// A flow that is safe in both modes (the bundled example is written for hot-spare: deploy's lint gate
// rightly refuses it for load-balanced): GET /hello answers from whichever replica serves it.
const HELLO_FLOWS = [
  {id: 't1', type: 'tab', label: 'hello'},
  {id: 'in1', type: 'http in', z: 't1', name: '', url: '/hello', method: 'get', upload: false, swaggerDoc: '', x: 120, y: 80, wires: [['out1']]},
  {id: 'out1', type: 'http response', z: 't1', name: '', statusCode: '200', headers: {}, x: 320, y: 80, wires: []},
]

async function status(port: number): Promise<{role?: string} | undefined> {
  try {
    const res = await request(`http://127.0.0.1:${port}/status`, {headersTimeout: 2000, bodyTimeout: 2000})
    return res.statusCode === 200 ? ((await res.body.json()) as {role?: string}) : (await res.body.dump(), undefined)
  } catch {
    return undefined
  }
}

async function roles(base: number): Promise<string[]> {
  return Promise.all([0, 1].map(async i => (await status(base + 20 + i))?.role ?? 'no answer'))
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < end) {
    last = await fn()
    if (last) return last as T
    await new Promise(r => setTimeout(r, 500))
  }
  throw new Error(`${what} within ${timeoutMs / 1000} s`)
}

// bases below the ephemeral port range (32768-60999), where other programs' free ports come from
for (const [mode, base] of [['hot-spare', 21880], ['load-balanced', 22880]] as const) {
  describe.skipIf(why !== undefined).sequential(`compose ${mode} on a real engine (stand-in base images, not the official ones)`, () => {
    let dir: string
    let out: string
    let s: Stack
    let drill: DrillJson
    let drillRun: {code: number; stdout: string; stderr: string}

    beforeAll(async () => {
      if (!existsSync(join(packageRoot, 'dist', 'commands'))) throw new Error('dist/ is not built: the replica image installs `npm pack` of this repository; run npm run build')
      dir = mkdtempSync(join(tmpdir(), `ff-ha-compose-${mode}-`))
      out = join(dir, 'deploy')
      writeFileSync(join(dir, 'ff-ha.yaml'), profileText(mode, base))
      writeFileSync(join(dir, 'flows.json'), JSON.stringify(HELLO_FLOWS))
      const render = await runCli(['render', '--out', 'deploy'], {cwd: dir, tmp: dir})
      if (render.code !== 0) throw new Error(`render failed: ${render.stderr}`)
      await ensureStandins(baseImages(out))
      s = await stack(out, `ffha-ci-${mode === 'hot-spare' ? 'hs' : 'lb'}`, SECRETS)
      await s.run(['down', '-v', '--remove-orphans'], 120_000)
    }, 1_200_000)

    afterAll(async () => {
      if (s) await s.run(['down', '-v', '--remove-orphans'], 180_000)
      if (dir) rmSync(dir, {recursive: true, force: true})
    }, 200_000)

    it('renders a build context with the packed ff-ha, and the image builds from it', async () => {
      expect(readFileSync(join(out, 'Dockerfile'), 'utf8')).toMatch(/^ARG FF_HA_PACKAGE=\/tmp\/ff-ha\/ff-ha-\d+\.\d+\.\d+\.tgz$/m)
      const build = await s.run(['build'], 1_200_000)
      expect(build.out.slice(-3000)).not.toMatch(/ERROR|npm error/)
      expect(build.code).toBe(0)
    }, 1_250_000)

    it(`starts (docker compose or docker-compose, whichever is installed) and settles: ${mode === 'hot-spare' ? 'one active, one spare' : 'both active'}`, async () => {
      const up = await s.run(['up', '-d'], 300_000)
      expect(up.code, up.out).toBe(0)
      const want = mode === 'hot-spare' ? 'active,spare' : 'active,active'
      await until(`roles ${want}`, async () => ((await roles(base)).sort().join(',') === want ? true : undefined), 180_000).catch(async err => {
        throw new Error(`${err.message}: ${(await roles(base)).join(', ')}\n${(await s.run(['logs', '--tail', '30'])).out.slice(-4000)}`)
      })
    }, 500_000)

    it('ff-ha deploy --discovery compose reaches both replicas on their fixed loopback ports and converges', async () => {
      const r = await runCli(['deploy', 'flows.json', '--discovery', 'compose', '--json'], {cwd: dir, tmp: dir, env: SECRETS})
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(r.stdout) as {ok: boolean; replicas: {name: string; url?: string}[]}
      expect(report.ok).toBe(true)
      expect(JSON.stringify(report)).toContain(`127.0.0.1:${base + 10}`)
      expect(JSON.stringify(report)).toContain(`127.0.0.1:${base + 11}`)
    }, 120_000)

    it('runs every compose scenario under traffic and passes: ' + SCENARIOS, async () => {
      drillRun = await runCli(['failover-test', '--target', 'compose', '--scenario', SCENARIOS + ',partition', '--iterations', '1', '--rate', '20', '--json'], {cwd: dir, tmp: dir, env: SECRETS, timeoutMs: 1_500_000})
      try {
        drill = JSON.parse(drillRun.stdout) as DrillJson
      } catch {
        throw new Error(`failover-test printed no JSON (exit ${drillRun.code}): ${drillRun.stderr.slice(-3000)}`)
      }
      expect(drill.target).toBe('compose')
      expect(drill.mode).toBe(mode)
      expect(drill.broker).toMatch(/127\.0\.0\.1/)
      expect(drill.scenarios.map(x => x.name)).toEqual([...SCENARIOS.split(','), 'partition'])
      expect(drill.scenarios.find(x => x.name === 'partition')!.skipped).toMatch(/docker network disconnect/)
      const failures = drill.scenarios.filter(x => x.failures.length).map(x => `${x.name}: ${x.failures.join('; ')}`)
      expect(failures, failures.join('\n')).toEqual([])
      expect(drillRun.code).toBe(0)
      expect(drill.passed).toBe(true)
    }, 1_600_000)

    it('a ran scenario measured real traffic; hot-spare: a spare took over every fault and two replicas never ran flows at once', () => {
      expect(drill, 'the drill did not report').toBeDefined()
      for (const x of drill.scenarios.filter(y => !y.skipped)) {
        const i = x.iterations[0]
        expect(i, `${x.name}: no iteration completed (${x.failures.join('; ')})`).toBeDefined()
        expect(i.httpSent, x.name).toBeGreaterThan(10)
        expect(i.mqttSent, x.name).toBeGreaterThan(5)
        expect(i.dualActiveMs, x.name).toBeLessThan(x.name === 'freeze' ? 50 : 0.001)
        if (mode === 'hot-spare' && x.name !== 'deploy') {
          expect(i.newActive, x.name).not.toBeNull()
          expect(i.newActive, x.name).not.toBe(i.faulted)
          expect(x.mqttLostAfterStop, x.name).toBe(0)
        }
        // docker kill frees the dead replica's liveness lock (src/agent/lease/liveness.ts): the spare takes over
        // before the lease (the image's 2000 ms, renewed every 200 ms) could have expired, i.e. < 1800 ms after
        // the kill; the freeze (docker pause) keeps its locks and still waits for the expiry.
        if (mode === 'hot-spare' && x.name === 'replica-crash') expect(i.mttrMs, x.name).toBeLessThan(1800)
        if (mode === 'hot-spare' && x.name === 'freeze') expect(i.mttrMs, x.name).toBeGreaterThan(1800)
      }
    })

    it('down -v leaves no container, volume or network of the project', async () => {
      const down = await s.run(['down', '-v', '--remove-orphans'], 180_000)
      expect(down.code, down.out).toBe(0)
      expect(await leftovers(s.project)).toEqual([])
    }, 200_000)
  })
}
