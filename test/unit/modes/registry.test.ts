import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import DeployCommand from '../../../src/commands/deploy.js'
import InitCommand from '../../../src/commands/init.js'
import LintFlowsCommand from '../../../src/commands/lint/flows.js'
import {planWaves, defaultStrategy, resolveStrategy} from '../../../src/deploy/strategy.js'
import {activesProblem, roleOf} from '../../../src/deploy/preflight.js'
import {drainMs} from '../../../src/model/proxy-checks.js'
import {MODE_IDS, MODES, STRATEGY_IDS, modeOf, type ModeId} from '../../../src/modes/index.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {renderProject} from '../../../src/render/project.js'
import {allRules as rules} from '../../../src/lint/rules/index.js'

// Walks the mode registry: every mode must render both targets, pass the profile schema and answer its
// policy consistently. A new mode gets these checks by its registry line alone.

const TARGETS = ['compose', 'kubernetes'] as const
const profileText = (mode: string, target: string) => `name: app\nmode: ${mode}\ntarget: ${target}\nreplicas: 3\n${target === 'compose' ? 'mqtt:\n  bundled: true\n' : 'mqtt:\n  broker: mqtt://broker:1883\n'}`

describe('the mode registry', () => {
  it('keys each mode by its own id', () => {
    for (const [key, mode] of Object.entries(MODES)) expect(mode.id).toBe(key)
    expect(MODE_IDS).toEqual(Object.keys(MODES))
  })

  it('gives its ids to every --mode flag, and its strategies to --strategy', () => {
    for (const command of [DeployCommand, InitCommand, LintFlowsCommand]) expect(command.flags.mode.options).toEqual(MODE_IDS)
    expect(DeployCommand.flags.strategy.options).toEqual(STRATEGY_IDS)
  })

  it('lets the profile schema refuse a mode it does not hold, naming the known ones', () => {
    expect(() => parseProfileText(profileText('active-active', 'compose'))).toThrow(/mode/)
  })

  it('gives every lint rule a severity for every mode', () => {
    for (const rule of rules) for (const id of MODE_IDS) expect(['error', 'warning', 'info', 'off'], `${rule.meta.id} ${id}`).toContain(rule.meta.severity[id])
  })
})

describe.each(MODE_IDS.map(id => [id, modeOf(id)] as const))('mode %s', (id: ModeId, mode) => {
  for (const target of TARGETS) {
    it(`passes the profile schema and renders ${target}`, () => {
      const text = profileText(id, target)
      const profile = parseProfileText(text)
      expect(profile.mode).toBe(id)
      const files = renderProject({profile, profileText: text, version: '0.1.0'})
      if (target === 'compose') {
        const compose = parse(files['compose.yaml']) as {services: Record<string, {environment: Record<string, string>}>; volumes: Record<string, unknown>}
        const env = compose.services['app-0'].environment
        // Every mode shares the sqlite lease on one host: hot-spare for its lease, load-balanced for the
        // ff-ha singleton node's named leases (docs/design/singleton.md).
        expect('FF_HA_LEASE_FILE' in env, 'lease file in the environment').toBe(true)
        expect('lease' in compose.volumes, 'lease volume').toBe(true)
        const haproxy = files['haproxy/haproxy.cfg']
        expect(haproxy).toContain(`http-check send meth GET uri ${mode.traffic.checkPath}`)
        expect(haproxy).toContain(` fall ${mode.traffic.fall} `)
        expect(haproxy.includes('balance roundrobin')).toBe(mode.traffic.to === 'every-healthy')
      } else {
        const paths = Object.keys(files)
        expect(paths.some(p => p.endsWith('pdb.yaml')), 'PodDisruptionBudget').toBe(mode.kubernetes.podDisruptionBudget)
        expect(paths.some(p => /role(binding)?\.yaml$/.test(p)), 'lease RBAC').toBe(mode.singleActive)
        const sts = parse(files[paths.find(p => p.endsWith('statefulset.yaml'))!])
        const container = sts.spec.template.spec.containers[0]
        expect(container.readinessProbe.httpGet.path).toBe(mode.traffic.checkPath)
        expect(container.env.some((e: {name: string}) => e.name === 'FF_HA_LEASE_NAME'), 'lease name in the environment').toBe(mode.singleActive)
        expect(sts.spec.updateStrategy.type === 'RollingUpdate' && sts.spec.updateStrategy.rollingUpdate?.partition === 0).toBe(mode.kubernetes.rollingUpdate)
        expect(Boolean(container.lifecycle?.preStop), 'preStop').toBe(mode.kubernetes.preStop)
      }
    })
  }

  it('answers its policy the same way everywhere it is asked', () => {
    const profile = parseProfileText(profileText(id, 'compose'))
    expect(defaultStrategy(id)).toBe(mode.deploy.defaultStrategy)
    expect(mode.deploy.strategies).toContain(mode.deploy.defaultStrategy)
    expect(STRATEGY_IDS).toEqual(expect.arrayContaining([...mode.deploy.strategies]))
    // a handover needs a lease to hand over
    expect(mode.deploy.strategies.includes('handover')).toBe(mode.singleActive)
    for (const other of STRATEGY_IDS.filter(s => !mode.deploy.strategies.includes(s))) expect(() => resolveStrategy(id, other)).toThrow(`--strategy ${other} does not apply to ${id}`)
    expect(drainMs(profile) > 0).toBe(mode.agent.drainsOnStop)
    const role = roleOf(id, {state: 'start', agentRole: 'active'} as Parameters<typeof roleOf>[1])
    expect(role === 'member').toBe(!mode.deploy.roles)
    expect(activesProblem(id, ['app-0', 'app-1']) !== undefined, 'two actives refused').toBe(mode.singleActive)
    const waves = planWaves([{name: 'a', role: mode.deploy.roles ? 'active' : 'member'}, {name: 'b', role: mode.deploy.roles ? 'spare' : 'member'}], id, 'parallel')
    expect(waves.at(-1)!.map(r => r.name)).toEqual(mode.deploy.roles ? ['a'] : ['a', 'b'])
  })
})
