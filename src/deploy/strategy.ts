import type {HaMode} from '../profile/schema.js'
import type {DeployRole, Strategy} from './types.js'
import {InputError} from '../errors.js'
import {modeOf} from '../modes/index.js'

export interface Planned {
  name: string
  role: DeployRole
}

/** Load-balanced deploys roll by default (one at a time keeps N-1 serving); hot-spare hands over. */
export function defaultStrategy(mode: HaMode): Strategy {
  return modeOf(mode).deploy.defaultStrategy
}

/** The strategy to run: the one asked for, if the mode accepts it, else the mode's default. */
export function resolveStrategy(mode: HaMode, asked: Strategy | undefined): Strategy {
  if (asked === undefined) return defaultStrategy(mode)
  const accepted = modeOf(mode).deploy.strategies
  if (!accepted.includes(asked)) throw new InputError(`--strategy ${asked} does not apply to ${mode}`, `${mode} deploys with: ${accepted.join(', ')}`)
  return asked
}

/**
 * The order of a deploy as waves: every replica of a wave deploys at once, and the next wave starts only when
 * the last one is confirmed. Hot-spare: the spares first, the active last (it serves until then); a handover
 * deploy gets the same waves and puts the handover before the last one. Rolling: waves of maxUnavailable.
 */
export function planWaves<T extends Planned>(replicas: T[], mode: HaMode, strategy: Strategy, maxUnavailable = 1): T[][] {
  const size = Math.max(1, Math.floor(maxUnavailable))
  const chunk = (list: T[]): T[][] => {
    if (list.length === 0) return []
    if (strategy !== 'rolling') return [list]
    const waves: T[][] = []
    for (let i = 0; i < list.length; i += size) waves.push(list.slice(i, i + size))
    return waves
  }
  if (modeOf(mode).deploy.roles) {
    return [...chunk(replicas.filter(r => r.role !== 'active')), ...replicas.filter(r => r.role === 'active').map(r => [r])]
  }
  return chunk(replicas)
}
