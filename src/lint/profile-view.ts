// What lint rules read from the HA profile, derived once: rules see settings, not the profile's shape, so a
// change to the profile schema is one edit here.
import type {LintProfileView} from './types.js'

/** The profile fields the view reads (any profile shape that has them; all optional for older profiles). */
export interface ProfileForLint {
  http?: {sticky?: boolean}
  nodeRed?: {contextStorage?: unknown}
}

export function lintProfileView(profile: ProfileForLint): LintProfileView {
  return {sticky: profile.http?.sticky ?? true, sharedContextStores: sharedContextStores(profile.nodeRed?.contextStorage)}
}

/**
 * The context stores that are ff-ha's shared store ('' = the default store), from `nodeRed.contextStorage` as
 * settings.js renders it: `shared` (or `{default: shared}`) makes it the default store, also reachable by the
 * name `shared`; `{default: memory, shared: {...}}` adds it as the store named `shared`. memory and
 * localfilesystem are never shared between replicas.
 */
export function sharedContextStores(contextStorage: unknown): ReadonlySet<string> {
  if (contextStorage === 'shared') return new Set(['', 'shared'])
  if (!contextStorage || typeof contextStorage !== 'object') return new Set()
  const {default: def, shared} = contextStorage as {default?: unknown; shared?: unknown}
  if (def === 'shared') return new Set(['', 'shared'])
  return new Set(shared ? ['shared'] : [])
}
