import type {Mode} from './types.js'

// One active replica, chosen by a lease; the spares boot with flows stopped and take over when it goes.
export const hotSpare = {
  id: 'hot-spare',
  summary: 'one replica runs flows (the lease holder), the others wait as spares',
  singleActive: true,
  traffic: {to: 'the-active', checkPath: '/active', fall: 1, editorNeedsSticky: false},
  // The handover goes through the lease at once: a drain would only slow it.
  agent: {drainsOnStop: false},
  // Hand the lease to an updated spare instead of restarting the active's flows (a failover's gap, not a
  // full restart's); the old in-place deploy stays available.
  deploy: {defaultStrategy: 'handover', strategies: ['handover', 'in-place', 'parallel', 'rolling'], roles: true},
  kubernetes: {podDisruptionBudget: false, rollingUpdate: false, preStop: false},
  drill: {victim: 'the-active', deployFailsNoRequest: false},
} as const satisfies Mode<'hot-spare'>
