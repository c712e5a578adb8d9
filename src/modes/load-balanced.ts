import type {Mode} from './types.js'

// Every healthy replica runs flows; the proxy spreads requests round-robin. No lease.
export const loadBalanced = {
  id: 'load-balanced',
  summary: 'every replica runs flows, requests are spread across them',
  singleActive: false,
  traffic: {to: 'every-healthy', checkPath: '/healthz', fall: 2, editorNeedsSticky: true},
  agent: {drainsOnStop: true},
  // Rolling keeps N-1 replicas serving.
  deploy: {defaultStrategy: 'rolling', strategies: ['rolling', 'parallel'], roles: false},
  kubernetes: {podDisruptionBudget: true, rollingUpdate: true, preStop: true},
  drill: {victim: 'each-in-turn', deployFailsNoRequest: true},
} as const satisfies Mode<'load-balanced'>
