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
 * The context stores that are ff-ha's shared store ('' = the default store), from `nodeRed.contextStorage`:
 * `shared` makes it the default store (also reachable by the name `shared`, as settings.js names it); an object
 * `{default: <store>, <name>: ...}` names it as the default and/or as a named store (`shared`, or one whose
 * `backend` is sqlite or postgres). memory and localfilesystem are never shared between replicas.
 */
export function sharedContextStores(contextStorage: unknown): ReadonlySet<string> {
  const shared = new Set<string>()
  if (contextStorage === 'shared') return new Set(['', 'shared'])
  if (!contextStorage || typeof contextStorage !== 'object') return shared
  const stores = contextStorage as Record<string, unknown>
  for (const [name, value] of Object.entries(stores)) {
    if (name === 'default') continue
    const isShared = value === 'shared' || name === 'shared' || (value !== null && typeof value === 'object' && ['sqlite', 'postgres', 'shared'].includes(String((value as {backend?: unknown}).backend)))
    if (isShared) shared.add(name)
  }
  const def = stores.default
  if (def === 'shared' || (typeof def === 'string' && shared.has(def))) shared.add('')
  return shared
}
