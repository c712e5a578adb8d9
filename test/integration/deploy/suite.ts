// The deploy suite against real Node-RED replicas (three on 127.0.0.1, temporary userDirs, the rendered
// settings, adminAuth on). Run once per Node-RED major: deploy-nr4.test.ts and deploy-nr5.test.ts.
import {readFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import bcrypt from 'bcryptjs'
import {join} from 'node:path'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {FlowNode, FlowsState} from '../../../src/admin/types.js'
import {deployFlows, flowsRev, type DeployOptions} from '../../../src/deploy/deploy.js'
import type {NodeRedMajor} from '../../../src/nodered/runtime.js'
import type {Progress} from '../../../src/output/progress.js'
import {freePort} from '../../../src/net/free-port.js'
import {bigFlows, brokerFlows, probeFlows} from '../../../harness/deploy-flows.js'
import {startReplicas, type TestCluster} from '../../../harness/replicas.js'

const ajv = new Ajv({allErrors: true})
addFormats.default(ajv)
const validateReport = ajv.compile(JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/deploy/report.schema.json'), 'utf8')))

const LOGIN_PASSWORD = 'deploy-pass-' + Math.random().toString(36).slice(2)

async function agentStub(role: string): Promise<{url: string; close(): Promise<void>}> {
  const server = createServer((_req, res) => {
    res.writeHead(200, {'content-type': 'application/json'})
    res.end(JSON.stringify({replica: 'stub', role}))
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {url: `http://127.0.0.1:${(server.address() as {port: number}).port}/`, close: () => new Promise(r => server.close(() => r()))}
}

export function deploySuite(major: NodeRedMajor): void {
  describe(`ff-ha deploy against Node-RED ${major}`, () => {
    let cluster: TestCluster
    beforeAll(async () => {
      cluster = await startReplicas(3, {major, prefix: `nr${major}`, env: {FF_HA_ADMIN_USER: 'deployer', FF_HA_ADMIN_PASSWORD_HASH: bcrypt.hashSync(LOGIN_PASSWORD, 8)}})
    }, 90_000)
    afterAll(async () => {
      await cluster?.stop()
    })

    // Every report of this suite (clean, refused, failed, rolled back, dry run) must fit the --json contract.
    const deploy = async (flows: FlowNode[], extra: Partial<DeployOptions> = {}) => {
      const report = await deployFlows({flows, replicas: cluster.targets(), auth: {token: cluster.token}, mode: 'load-balanced', strategy: 'parallel', ...extra})
      const valid = validateReport(JSON.parse(JSON.stringify(report)))
      expect(validateReport.errors ?? [], 'the --json contract').toEqual([])
      expect(valid).toBe(true)
      return report
    }
    const revs = () => Promise.all(cluster.replicas.map(r => r.client.getFlows().then(f => f.rev)))
    const states = () => Promise.all(cluster.replicas.map(r => r.client.getFlowsState()))
    async function setStates(wanted: FlowsState[]): Promise<void> {
      await Promise.all(cluster.replicas.map(async (r, i) => {
        if ((await r.client.getFlowsState()) !== wanted[i]) await r.client.setFlowsState(wanted[i] as 'start' | 'stop')
      }))
    }
    /** GET the probe endpoint: the tag when the replica's flows run, else the HTTP status. */
    async function probe(i: number): Promise<string> {
      const res = await request(`${cluster.replicas[i].url}ff-ha-deploy-probe`)
      const text = await res.body.text()
      return res.statusCode === 200 ? text : `HTTP ${res.statusCode}`
    }

    it('a clean deploy converges: every replica runs the new rev in its state, and proves it by serving it', async () => {
      await setStates(['start', 'start', 'start'])
      const flows = probeFlows(`clean-${major}`)
      const report = await deploy(flows, {strategy: 'rolling'})
      expect(report.ok, report.error).toBe(true)
      expect(Object.keys(report).sort()).toEqual(['dryRun', 'durationMs', 'mode', 'ok', 'replicas', 'rev', 'strategy'])
      expect(report.rev).toBe(flowsRev(flows))
      for (const r of report.replicas) {
        expect(r).toMatchObject({status: 'deployed', after: {rev: report.rev, state: 'start'}, before: {state: 'start'}})
        expect(Object.keys(r)).toEqual(expect.arrayContaining(['name', 'url', 'before', 'after', 'status', 'durationMs']))
      }
      expect(await revs()).toEqual([report.rev, report.rev, report.rev])
      expect(await Promise.all([0, 1, 2].map(probe))).toEqual([`clean-${major}`, `clean-${major}`, `clean-${major}`])
      // "Started" came from Node-RED's runtime-deploy notification (comms), not only from /flows/state.
      expect(await cluster.replicas[0].client.waitForFlowsStarted(report.rev, 5000)).toBe(true)
      // The same flows again change nothing.
      const again = await deploy(flows)
      expect(again.replicas.map(r => r.status)).toEqual(['unchanged', 'unchanged', 'unchanged'])
    })

    it('deployment types nodes and flows converge too (only what changed restarts)', async () => {
      await setStates(['start', 'start', 'start'])
      for (const type of ['nodes', 'flows'] as const) {
        const report = await deploy(probeFlows(`type-${type}`), {type, strategy: 'rolling', maxUnavailable: 2})
        expect(report.ok, report.error).toBe(true)
        expect(await Promise.all([0, 1, 2].map(probe))).toEqual([`type-${type}`, `type-${type}`, `type-${type}`])
      }
    })

    it('a wrong token fails before any change, naming every replica and never printing a token', async () => {
      const before = await revs()
      const report = await deploy(probeFlows('wrong-token'), {auth: {token: 'not-the-token-at-all'}})
      expect(report.ok).toBe(false)
      expect(report.error).toBe(`refused before any change: nr${major}-0, nr${major}-1, nr${major}-2: GET /flows: not authorized (HTTP 401)`)
      expect(report.hint).toMatch(/admin token/)
      expect(report.replicas.map(r => r.status)).toEqual(['failed', 'failed', 'failed'])
      expect(await revs()).toEqual(before)
      const json = JSON.stringify(report)
      expect(json).not.toContain('not-the-token-at-all')
      expect(json).not.toContain(cluster.token)
    })

    it('one replica down refuses up front and changes nothing on the others', async () => {
      const before = await revs()
      const port = await freePort()
      const report = await deploy(probeFlows('one-down'), {replicas: [...cluster.targets(), {name: 'down', url: `http://127.0.0.1:${port}/`}]})
      expect(report.ok).toBe(false)
      expect(report.error).toBe(`refused before any change: down: GET /flows: connection refused by http://127.0.0.1:${port} (nothing listens there: is the replica running?)`)
      expect(report.replicas.map(r => r.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'failed'])
      expect(await revs()).toEqual(before)
    })

    it('a concurrent deploy gets the conflict (409), the others are rolled back, and --force deploys over it', async () => {
      await setStates(['start', 'start', 'start'])
      const before = await revs()
      const theirs = probeFlows('someone-else')
      const report = await deploy(probeFlows('ours'), {
        hooks: {
          // Someone deploys to replica 1 between our preflight and our POST.
          afterPreflight: async () => {
            await cluster.replicas[1].client.postFlows(theirs, {rev: before[1]})
          },
        },
      })
      expect(report.ok).toBe(false)
      const [r0, r1, r2] = report.replicas
      expect(r1.status).toBe('failed')
      expect(r1.error).toBe(`nr${major}-1: POST /flows: version_mismatch, the replica's flows changed since they were read`)
      expect(r1.after.rev).toBe(flowsRev(theirs))
      expect([r0.status, r2.status]).toEqual(['rolled-back', 'rolled-back'])
      expect([r0.after.rev, r2.after.rev]).toEqual([before[0], before[2]])
      expect(report.error).toMatch(/version_mismatch.*rolled back nr\d-0, nr\d-2; replicas now run different revisions/)
      expect(await revs()).toEqual([before[0], flowsRev(theirs), before[2]])

      const forced = await deploy(probeFlows('ours'), {force: true})
      expect(forced.ok, forced.error).toBe(true)
      expect(await revs()).toEqual([forced.rev, forced.rev, forced.rev])
      expect(await probe(1)).toBe('ours')
    })

    it('hot-spare: the spares first and the active last; the spares stay stopped and serve nothing', async () => {
      await setStates(['start', 'stop', 'stop'])
      const order: string[] = []
      const progress: Progress = {start: (id, text) => text.includes('deploying') && order.push(id), succeed() {}, fail() {}, info() {}}
      const report = await deploy(probeFlows(`hot-${major}`), {mode: 'hot-spare', strategy: undefined, progress})
      expect(report.ok, report.error).toBe(true)
      // no agents here, so the default (handover) cannot be done: in place, and the report says why
      expect(report).toMatchObject({strategy: 'in-place', note: `deployed in place, not by handover: nr${major}-0 has no agent URL: only an ff-ha agent hands its lease over`})
      expect(order.at(-1)).toBe(`nr${major}-0`)
      expect(order.slice(0, 2).sort()).toEqual([`nr${major}-1`, `nr${major}-2`])
      expect(report.replicas.map(r => [r.role, r.after.state])).toEqual([['active', 'start'], ['spare', 'stop'], ['spare', 'stop']])
      expect(await states()).toEqual(['start', 'stop', 'stop'])
      expect(await revs()).toEqual([report.rev, report.rev, report.rev])
      expect(await probe(0)).toBe(`hot-${major}`)
      expect(await probe(1)).toBe('HTTP 404')
      expect(await probe(2)).toBe('HTTP 404')
    })

    it('hot-spare: a spare found running flows after the deploy is stopped at once, and the deploy rolled back', async () => {
      await setStates(['start', 'stop', 'stop'])
      const before = await revs()
      const report = await deploy(probeFlows('spare-started'), {
        mode: 'hot-spare',
        // Someone starts replica 2's flows between our preflight and our POST.
        hooks: {afterPreflight: async () => void (await cluster.replicas[2].client.setFlowsState('start'))},
      })
      expect(report.ok).toBe(false)
      const r2 = report.replicas[2]
      expect(r2.status).toBe('failed')
      expect(r2.error).toMatch(new RegExp(`^nr${major}-2: a spare started its flows; ff-ha stopped its flows again \\(rolled back to rev ${before[2].slice(0, 8)}\\)$`))
      expect(report.replicas[1].status).toBe('rolled-back')
      expect(report.replicas[0].status).toBe('unchanged')
      expect(await states()).toEqual(['start', 'stop', 'stop'])
      expect(await revs()).toEqual(before)
    })

    it('hot-spare: two replicas running flows are refused before any change', async () => {
      await setStates(['start', 'start', 'stop'])
      const before = await revs()
      const report = await deploy(probeFlows('two-actives'), {mode: 'hot-spare'})
      expect(report.ok).toBe(false)
      expect(report.error).toMatch(new RegExp(`^refused before any change: hot-spare: 2 replicas run flows \\(nr${major}-0, nr${major}-1\\), at most one may`))
      expect(await revs()).toEqual(before)
    })

    it('hot-spare: a spare in safe mode is refused, because a deploy would start its flows', async () => {
      await cluster.restart(2, {args: ['--safe']})
      try {
        // Node-RED says `start` for a moment after boot, even in safe mode (start() sets it before it checks
        // for safe mode); wait for `safe` as a user would see it.
        let state = ''
        for (let i = 0; i < 100 && state !== 'safe'; i++) {
          state = await cluster.replicas[2].client.getFlowsState()
          if (state !== 'safe') await new Promise(r => setTimeout(r, 50))
        }
        expect(state).toBe('safe')
        const before = await revs()
        const report = await deploy(probeFlows('safe'), {mode: 'hot-spare'})
        expect(report.ok).toBe(false)
        expect(report.error).toMatch(new RegExp(`^refused before any change: nr${major}-2: is a spare in safe mode \\(--safe\\): a deploy would start its flows; restart it without --safe`))
        expect(await revs()).toEqual(before)
        expect(await cluster.replicas[2].client.getFlowsState()).toBe('safe')
        expect(await probe(2)).toBe('HTTP 404')
      } finally {
        await cluster.restart(2)
      }
    })

    it('a replica killed mid-deploy: the replicas already changed are rolled back, and the report says what each runs', async () => {
      await setStates(['start', 'start', 'stop'])
      const before = await revs()
      const report = await deploy(probeFlows('killed'), {
        strategy: 'rolling',
        hooks: {
          afterReplica: async name => {
            if (name === `nr${major}-0`) await cluster.kill(2)
          },
        },
      })
      try {
        expect(report.ok).toBe(false)
        const [r0, r1, r2] = report.replicas
        expect([r0.status, r1.status]).toEqual(['rolled-back', 'rolled-back'])
        expect([r0.after, r1.after]).toEqual([{rev: before[0], state: 'start'}, {rev: before[1], state: 'start'}])
        expect(r2.status).toBe('failed')
        expect(r2.after).toEqual({rev: null, state: null})
        expect(r2.error).toMatch(/POST \/flows: connection refused/)
        expect(report.error).toMatch(new RegExp(`rolled back nr${major}-0, nr${major}-1; replicas now run different revisions: nr${major}-0, nr${major}-1 on ${before[0].slice(0, 8)}; nr${major}-2 on unknown`))
        expect(await Promise.all([0, 1].map(i => cluster.replicas[i].client.getFlows().then(f => f.rev)))).toEqual([before[0], before[1]])
      } finally {
        await cluster.restart(2)
      }
      // It died before our POST reached it: it boots with what it had, stopped.
      expect((await cluster.replicas[2].client.getFlows()).rev).toBe(before[2])
    })

    it('a replica that hangs mid-deploy (SIGSTOP) times out, the others are rolled back, and it is reported unknown', async () => {
      await setStates(['start', 'start', 'start'])
      const before = await revs()
      const hung = cluster.replicas[2].node.child
      const report = await deploy(probeFlows('hung'), {
        clientOptions: {requestTimeoutMs: 1500, retries: 0},
        hooks: {afterPreflight: () => void hung.kill('SIGSTOP')},
      })
      hung.kill('SIGCONT')
      expect(report.ok).toBe(false)
      const [r0, r1, r2] = report.replicas
      expect([r0.status, r1.status]).toEqual(['rolled-back', 'rolled-back'])
      expect([r0.after.rev, r1.after.rev]).toEqual([before[0], before[1]])
      expect(r2.status).toBe('failed')
      expect(r2.error).toMatch(/POST \/flows: no answer within 1500 ms/)
      expect(r2.after).toEqual({rev: null, state: null})
      expect(report.error).toMatch(/nr\d-2 on unknown/)
      expect(report.hint).toMatch(new RegExp(`nr${major}-2 may still apply this deploy when it answers again`))
      // Why the hint: the hung replica still holds our POST in its socket buffer and applies it when it
      // wakes, after the deploy has reported. The split is in the report (unknown), so it is not silent.
      let woke = ''
      for (let i = 0; i < 100 && woke !== report.rev; i++) {
        woke = (await cluster.replicas[2].client.getFlows()).rev
        await new Promise(r => setTimeout(r, 100))
      }
      expect(woke).toBe(report.rev)
    }, 60_000)

    it('a 5,000-node flows file deploys to all three and converges', async () => {
      await setStates(['start', 'start', 'start'])
      const flows = bigFlows(5000, `big-${major}`)
      expect(flows.length).toBe(5000)
      const report = await deploy(flows, {verifyTimeoutMs: 60_000})
      expect(report.ok, report.error).toBe(true)
      expect(await revs()).toEqual([report.rev, report.rev, report.rev])
      expect(await states()).toEqual(['start', 'start', 'start'])
      expect((await cluster.replicas[0].client.getFlows()).flows.length).toBe(5000)
    }, 120_000)

    it('credentials reach every replica, are stored encrypted, never show in the report, and survive a restart', async () => {
      await setStates(['stop', 'stop', 'stop'])
      const password = `pw-${major}-${Math.random().toString(36).slice(2)}`
      const report = await deploy(brokerFlows(), {mode: 'hot-spare', credentials: {broker1: {user: 'bob', password}}})
      expect(report.ok, report.error).toBe(true)
      expect(JSON.stringify(report)).not.toContain(password)
      for (const r of cluster.replicas) {
        expect(await r.client.getNodeCredentials('mqtt-broker', 'broker1')).toEqual({user: 'bob', has_password: true})
        const stored = readFileSync(join(r.userDir, 'flows_cred.json'), 'utf8')
        expect(stored).toContain('"$"')
        expect(stored).not.toContain(password)
      }
      await cluster.restart(1)
      expect(await cluster.replicas[1].client.getNodeCredentials('mqtt-broker', 'broker1')).toEqual({user: 'bob', has_password: true})
      expect(await cluster.replicas[1].client.getFlowsState()).toBe('stop')
      // The restarted replica decrypts them with the shared credentialSecret: a deploy of the same flows
      // (no credentials) leaves them in place.
      const again = await deploy(brokerFlows(), {mode: 'hot-spare'})
      expect(again.replicas.map(r => r.status)).toEqual(['unchanged', 'unchanged', 'unchanged'])
    })

    it('hot-spare roles come from the agents when there are: the one whose agent holds the lease goes last', async () => {
      await setStates(['stop', 'stop', 'stop'])
      // Stand-ins for the agents' /status (the agent is another issue's); real HTTP, canned roles.
      const agents = await Promise.all(['spare', 'active', 'fenced'].map(role => agentStub(role)))
      try {
        const order: string[] = []
        const progress: Progress = {start: (id, text) => text.includes('deploying') && order.push(id), succeed() {}, fail() {}, info() {}}
        const replicas = cluster.targets().map((t, i) => ({...t, agentUrl: agents[i].url}))
        const report = await deploy(probeFlows(`agents-${major}`), {mode: 'hot-spare', replicas, progress})
        expect(report.ok, report.error).toBe(true)
        expect(report.replicas.map(r => r.role)).toEqual(['spare', 'active', 'spare'])
        expect(order.at(-1)).toBe(`nr${major}-1`)
        // The active one's flows are the agent's to start; a deploy keeps every state as it found it.
        expect(await states()).toEqual(['stop', 'stop', 'stop'])
      } finally {
        await Promise.all(agents.map(a => a.close()))
      }
    })

    it('logs in with a username and password on each replica (tokens are per replica)', async () => {
      const report = await deploy(probeFlows(`login-${major}`), {auth: {username: 'deployer', password: LOGIN_PASSWORD}})
      expect(report.ok, report.error).toBe(true)
      expect(await revs()).toEqual([report.rev, report.rev, report.rev])
      const refused = await deploy(probeFlows('login-wrong'), {auth: {username: 'deployer', password: 'wrong-password'}})
      expect(refused.error).toBe(`refused before any change: nr${major}-0, nr${major}-1, nr${major}-2: login refused for user "deployer" (HTTP 403)`)
      expect(JSON.stringify(refused)).not.toContain('wrong-password')
    })

    it('--dry-run lists the nodes that would change per replica and posts nothing', async () => {
      expect((await deploy(brokerFlows(), {mode: 'hot-spare'})).ok).toBe(true)
      const before = await revs()
      const report = await deploy(probeFlows('dry'), {dryRun: true})
      expect(report.ok).toBe(true)
      expect(report.dryRun).toBe(true)
      expect(report.replicas[0].changes).toEqual({
        added: [{id: 'probe-tab', type: 'tab', name: 'Probe'}, {id: 'probe-in', type: 'http in', name: 'probe'}, {id: 'probe-set', type: 'change', name: 'tag'}, {id: 'probe-out', type: 'http response'}],
        removed: [{id: 'mq-tab', type: 'tab', name: 'MQTT'}, {id: 'broker1', type: 'mqtt-broker', name: 'broker'}, {id: 'mq-out', type: 'mqtt out'}],
        changed: [],
      })
      expect(await revs()).toEqual(before)
    })
  })
}
