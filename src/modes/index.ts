import {hotSpare} from './hot-spare.js'
import {loadBalanced} from './load-balanced.js'
import type {DeployStrategy, Mode} from './types.js'

export type {DeployStrategy, Mode} from './types.js'

// The registry of HA modes (after ESLint's rule registry): the profile schema's enum, the --mode flag
// options and the ModeId union are all derived from it. Adding a mode: docs/design/adding-a-mode.md.
export const MODES = {
  'hot-spare': hotSpare,
  'load-balanced': loadBalanced,
} as const satisfies {[Id in string]: Mode<Id>}

export type ModeId = keyof typeof MODES

/** Every strategy some mode accepts (the --strategy options), in registry order. */
export const STRATEGY_IDS = [...new Set(Object.values(MODES).flatMap(m => m.deploy.strategies))] as [DeployStrategy, ...DeployStrategy[]]

/** Every mode id, in registry order (a non-empty tuple, as z.enum wants). */
export const MODE_IDS = Object.keys(MODES) as [ModeId, ...ModeId[]]

/** The mode a profile gets when it names none. */
export const DEFAULT_MODE: ModeId = 'hot-spare'

/** The mode `lint flows` checks against when neither --mode nor a profile says: the stricter one. */
export const STRICTEST_MODE: ModeId = 'load-balanced'

export function modeOf(id: ModeId): Mode<ModeId> {
  return MODES[id]
}

export function isModeId(value: unknown): value is ModeId {
  return typeof value === 'string' && Object.hasOwn(MODES, value)
}
