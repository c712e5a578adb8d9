// bench/failover: >= 20 iterations of every scenario on the local target with the default local timings
// (sqlite lease 2 s / renew 1.5 s / retry 200 ms; health 250 ms x 3), HTTP at 50 req/s and MQTT QoS 1 at
// 50 msg/s through HAProxy (the rendered config) and Mosquitto. Prints p50 / p95 / max MTTR as clients
// see it beside the cold start of the same Node-RED with the same flows, the ratio, and the targets.
// With --targets local,compose the same scenarios also run against the rendered Compose project on a real
// Docker engine (Debian's 20.10 + docker-compose 1.29 here; the base images are the LOCAL STAND-INS of
// scripts/standin-images.sh, not the official images), rendered, built and started by the bench, with the
// replica image's default timings (sqlite lease 2 s), printed beside the local figures of the same run.
// replica-crash (the whole replica killed: agent and Node-RED, or `docker kill`): nobody releases the lease,
// but the dead replica's liveness lock is free (src/agent/lease/liveness.ts), so the spare takes over without
// waiting for the lease to expire; the anchor printed beside it is that expiry wait (the lease duration).
// With --targets hosts: the hosts target (3 network namespaces, an etcd member on each, the etcd lease; as
// root), hot-spare only, its scenarios (host-loss, partition, the etcd faults) once per --lease-timings set
// (lease/renewDeadline/retry in ms; default: the etcd backend's defaults), to find the shortest safe timings:
// a set is safe when every scenario kept dual-active at 0 ms.
// Usage: npm run bench:failover [-- --iterations 20 --scenarios crash,hang,... --modes hot-spare,load-balanced --targets local,compose,hosts --lease-timings 2000/1500/250,1200/900/150]
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {runFailoverTest} from '../../src/drill/failover-test.js'
import {renderFromProfile} from '../../src/render/run.js'
import {baseImages, dockerUnavailable, ensureStandins, leftovers, stack} from '../../harness/compose-stack.js'
import {parseArgs} from 'node:util'
import {drillHtml} from '../../src/drill/report/html.js'
import {drillJson} from '../../src/drill/report/json.js'
import {runDrill} from '../../src/drill/run.js'
import {resolveFlows} from '../../src/drill/failover-test.js'
import type {DrillReport, ScenarioName} from '../../src/drill/types.js'
import {parseProfileText} from '../../src/profile/load.js'
import {DEFAULT_TIMINGS} from '../../src/profile/defaults.js'
import {hostsUnavailable} from '../../src/drill/topology/hosts.js'
import {etcdLeaseAvailable} from '../../src/drill/topology/hosts-lease.js'

const {values} = parseArgs({options: {iterations: {type: 'string', default: '20'}, scenarios: {type: 'string'}, modes: {type: 'string', default: 'hot-spare,load-balanced'}, targets: {type: 'string', default: 'local'}, 'lease-timings': {type: 'string'}, out: {type: 'string', default: join('bench', 'failover', 'last-run.json')}}})
const iterations = Number(values.iterations)
const lease = DEFAULT_TIMINGS.sqlite.leaseDurationMs
// generous SLOs: the bench reports figures against its own targets, it does not gate
// slo.maxMttrMs stays at its default: the rendered HAProxy check interval derives from it (maxMttrMs / 50,
// 100 ms..2 s), so a relaxed MTTR here would slow the very checks the bench measures.
const profileText = (mode: string) => `name: bench-${mode === 'hot-spare' ? 'hs' : 'lb'}\nmode: ${mode}\nslo:\n  maxLostMessages: 100000\n  maxDualActiveMs: 100000\n`
const {flows} = resolveFlows(undefined)

const targetList = values.targets!.split(',')
if (targetList.includes('compose')) {
  const why = dockerUnavailable()
  if (why) throw new Error(`--targets compose: ${why}`)
}
const runs: DrillReport[] = []
const hostsLabels = new Map<DrillReport, string>()
if (targetList.includes('hosts')) {
  const why = hostsUnavailable()
  if (why) throw new Error(`--targets hosts: ${why}`)
  if (!etcdLeaseAvailable()) throw new Error('--targets hosts: this build has no etcd lease backend')
}
const hostTimings = (values['lease-timings'] ?? '').split(',').filter(Boolean).map(parseTimings)
for (const mode of values.modes!.split(',')) {
  for (const target of targetList) {
    if (target === 'hosts') {
      // hot-spare only: the etcd lease is what this target measures
      if (mode !== 'hot-spare') continue
      for (const timings of hostTimings.length ? hostTimings : [null]) {
        const scenarios = (values.scenarios ?? 'host-loss,partition,etcd-leader-kill,etcd-member-partition,etcd-outage,etcd-outage-long').split(',') as ScenarioName[]
        const t0 = Date.now()
        const label = timings ? `${timings.leaseDurationMs}/${timings.renewDeadlineMs}/${timings.retryPeriodMs}` : 'defaults'
        const log = (line: string) => process.stderr.write(`[hosts ${label} +${Math.round((Date.now() - t0) / 1000)}s] ${line}\n`)
        try {
          const report = await hostsRun(timings, scenarios, log)
          runs.push(report)
          hostsLabels.set(report, label)
          writeFileSync(join('bench', 'failover', `last-run-hosts-${label.replace(/\//g, '-')}.html`), drillHtml(report))
        } catch (err) {
          log(`FAILED: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
      continue
    }
    const defaults = target === 'compose' ? 'crash,replica-crash,hang,freeze,graceful,deploy' : mode === 'hot-spare' ? 'crash,replica-crash,hang,freeze,graceful,deploy,partition' : 'crash,replica-crash,graceful,deploy'
    const scenarios = (values.scenarios ?? defaults).split(',') as ScenarioName[]
    const t0 = Date.now()
    const log = (line: string) => process.stderr.write(`[${mode} ${target} +${Math.round((Date.now() - t0) / 1000)}s] ${line}\n`)
    let report: DrillReport
    try {
      report = target === 'compose' ? await composeRun(mode, scenarios, log) : await localRun(mode, scenarios, log)
    } catch (err) {
      // one target that cannot run must not throw away the figures of the others
      log(`FAILED: ${err instanceof Error ? err.message : String(err)}`)
      continue
    }
    runs.push(report)
    writeFileSync(join('bench', 'failover', `last-run-${mode}${target === 'local' ? '' : `-${target}`}.html`), drillHtml(report))
  }
}

function parseTimings(spec: string): {leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number} {
  const [leaseDurationMs, renewDeadlineMs, retryPeriodMs] = spec.split('/').map(Number)
  if (![leaseDurationMs, renewDeadlineMs, retryPeriodMs].every(n => Number.isInteger(n) && n > 0)) throw new Error(`--lease-timings: "${spec}" is not lease/renewDeadline/retry in ms, like 2000/1500/250`)
  return {leaseDurationMs, renewDeadlineMs, retryPeriodMs}
}

/** The hosts target with the etcd lease, with these timings (null: the etcd backend's defaults). */
async function hostsRun(timings: ReturnType<typeof parseTimings> | null, scenarios: ScenarioName[], log: (line: string) => void): Promise<DrillReport> {
  const text = `name: bench-hosts\nslo:\n  maxLostMessages: 100000\n  maxDualActiveMs: 100000\n${timings ? `failover:\n  leaseDurationMs: ${timings.leaseDurationMs}\n  renewDeadlineMs: ${timings.renewDeadlineMs}\n  retryPeriodMs: ${timings.retryPeriodMs}\n` : ''}`
  return runDrill({profile: parseProfileText(text), profileText: text, flows, target: 'hosts', scenarios, iterations, mqtt: true, rate: 50, log})
}

async function localRun(mode: string, scenarios: ScenarioName[], log: (line: string) => void): Promise<DrillReport> {
  const text = profileText(mode)
  return runDrill({profile: parseProfileText(text), profileText: text, flows, target: 'local', scenarios, iterations, mqtt: true, rate: 50, log})
}

/** Render, build and start the Compose project, drill it through its HAProxy and broker, then down -v. */
async function composeRun(mode: string, scenarios: ScenarioName[], log: (line: string) => void): Promise<DrillReport> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-ha-bench-compose-'))
  // below the ephemeral range (32768-60999), where the drill's own free ports come from
  const base = mode === 'hot-spare' ? 23880 : 24880
  const project = `ffha-bench-${mode === 'hot-spare' ? 'hs' : 'lb'}`
  const secrets = {FF_HA_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef', FF_HA_CREDENTIAL_SECRET: 'bench-credential-secret-0123456789ab'}
  const profileFile = join(dir, 'ff-ha.yaml')
  writeFileSync(profileFile, `${profileText(mode)}replicas: 2\nmqtt: {broker: "mqtt://mosquitto:1883", bundled: true}\ncompose:\n  project: ${project}\n  ports: {http: ${base}, mqtt: ${base + 2}, replicaHttp: ${base + 10}, replicaStatus: ${base + 20}}\n`)
  const out = join(dir, 'deploy')
  renderFromProfile({profileFile, outDir: out})
  await ensureStandins(baseImages(out))
  const s = await stack(out, project, secrets)
  try {
    log(`building and starting the project with ${s.compose.join(' ')}`)
    for (const args of [['build'], ['up', '-d']]) {
      const r = await s.run(args)
      if (r.code !== 0) throw new Error(`${s.compose.join(' ')} ${args.join(' ')} failed: ${r.out.slice(-2000)}`)
    }
    const end = Date.now() + 180_000
    while (Date.now() < end) {
      const roles = await Promise.all([0, 1].map(i => request(`http://127.0.0.1:${base + 20 + i}/status`).then(r => r.body.json() as Promise<{role?: string}>, () => ({role: undefined}))))
      if (roles.every(r => r.role === 'active' || r.role === 'spare')) break
      await new Promise(r => setTimeout(r, 500))
    }
    Object.assign(process.env, secrets)
    const {report} = await runFailoverTest({profileFile, target: 'compose', scenarios: scenarios.join(','), iterations, traffic: 'http,mqtt', rate: 50, proxy: 'auto', keep: false, cwd: dir, log})
    return report
  } finally {
    await s.run(['down', '-v', '--remove-orphans'])
    const left = await leftovers(project)
    if (left.length) log(`left behind: ${left.join(', ')}`)
    rmSync(dir, {recursive: true, force: true})
  }
}

const targets: Record<string, (s: DrillReport['scenarios'][number], r: DrillReport) => string> = {
  crash: s => `p50 < 300 ms: ${verdict((s.mttrMs.p50 ?? Infinity) < 300)}; ratio < 0.35: ${verdict((s.ratioToColdStart ?? Infinity) < 0.35)}`,
  hang: s => `p50 < 1500 ms: ${verdict((s.mttrMs.p50 ?? Infinity) < 1500)}`,
  'replica-crash': (s, r) => r.mode === 'load-balanced' ? `no lease: the other replica serves, ${s.httpFailed} failed requests` : `p50 <= 300 ms: ${verdict((s.mttrMs.p50 ?? Infinity) <= 300)} (anchor: waiting for the lease to expire, ${lease} ms)`,
  freeze: s => `p50 < lease + 500 = ${lease + 500} ms: ${verdict((s.mttrMs.p50 ?? Infinity) < lease + 500)}; wake-up overlap < 50 ms: ${verdict(Math.max(0, ...s.iterations.map(i => i.dualActiveMs)) < 50)}`,
  deploy: (s, r) => (r.mode === 'load-balanced' ? `rolling deploy, 0 failed requests: ${verdict(s.httpFailed === 0)}` : `${s.httpFailed} failed requests`),
  'host-loss': s => `p50 <= 2500 ms: ${verdict((s.mttrMs.p50 ?? Infinity) <= 2500)}; dual-active 0: ${verdict(s.dualActiveMs === 0)}`,
  // an etcd fault need not move the lease: count the iterations where it did (the holder missed a renew)
  'etcd-leader-kill': s => `takeovers ${s.iterations.filter(i => i.newActive !== i.faulted).length}/${s.iterations.length}; dual-active 0: ${verdict(s.dualActiveMs === 0)}`,
  'etcd-member-partition': s => `takeovers ${s.iterations.filter(i => i.newActive !== i.faulted).length}/${s.iterations.length}; dual-active 0: ${verdict(s.dualActiveMs === 0)}`,
  'etcd-outage': s => `the holder kept leading ${s.iterations.filter(i => i.newActive === i.faulted && i.httpFailed === 0).length}/${s.iterations.length}; dual-active 0: ${verdict(s.dualActiveMs === 0)}`,
  'etcd-outage-long': s => `the holder stopped by its deadline ${s.iterations.filter(i => i.detectionMs !== null).length}/${s.iterations.length}; dual-active 0: ${verdict(s.dualActiveMs === 0)}`,
}
const lines: string[] = []
for (const r of runs) {
  const label = hostsLabels.get(r)
  lines.push(`\n${r.mode} on ${r.target}${label ? ` (lease timings ${label}: ${r.lease})` : ''}: proxy ${r.proxy}, broker ${r.broker}, cold start ${r.baseline.coldStartMs} ms, ${iterations} iterations each`)
  lines.push('scenario        MTTR p50    p95     max   detect p50  ratio  http failed  mqtt lost (after stop)  dual-active max  target')
  for (const s of r.scenarios) {
    if (s.skipped) {
      lines.push(`${s.name.padEnd(13)} skipped: ${s.skipped}`)
      continue
    }
    const dualMax = Math.max(0, ...s.iterations.map(i => i.dualActiveMs))
    const target = targets[s.name]?.(s, r) ?? (dualMax === 0 ? 'zero dual-active: met' : 'zero dual-active: MISSED')
    lines.push(
      `${s.name.padEnd(13)} ${ms(s.mttrMs.p50)} ${ms(s.mttrMs.p95)} ${ms(s.mttrMs.max)} ${ms(s.detectionMs.p50)}   ${String(s.ratioToColdStart ?? '-').padStart(5)}  ${String(s.httpFailed).padStart(11)}  ${`${s.mqttLost} (${s.mqttLostAfterStop})`.padStart(22)}  ${`${dualMax} ms`.padStart(15)}  ${target}${s.iterations.length < iterations ? `  [only ${s.iterations.length} iterations: ${s.failures.join('; ')}]` : ''}`,
    )
  }
}
process.stdout.write(lines.join('\n') + '\n')
writeFileSync(values.out!, JSON.stringify({date: new Date().toISOString(), iterations, targets: targetList, runs: runs.map(drillJson)}, null, 2) + '\n')
process.stderr.write(`\nwrote ${values.out} and bench/failover/last-run-<mode>.html\n`)

function ms(v: number | null): string {
  return (v === null ? '-' : `${Math.round(v)} ms`).padStart(8)
}
function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED'
}
