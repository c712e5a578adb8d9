import {dirname} from 'node:path'
import {modeOf} from '../modes/index.js'
import type {Profile} from '../profile/schema.js'

// nodeRed.contextStorage, read once into what render, settings.js and the agent need. The profile takes a
// short form (`contextStorage: shared`) and a long one (`{default: memory, shared: {...}}`); both end here.

export type ContextStoreKind = 'memory' | 'localfilesystem' | 'shared'

/** ff-ha's shared store as every replica configures it. Nothing here is a secret: postgres names an env var. */
export interface SharedContextPlan {
  backend: 'sqlite' | 'postgres'
  /** sqlite: the database file (FF_HA_CONTEXT_PATH overrides it at run time, e.g. for local drills). */
  path: string
  /** postgres: the environment variable holding the connection string. */
  connectionStringEnv: string
  /**
   * Writes carry the agent's lease token (hot-spare): a replica without the lease, or with an older tenure's
   * token, is refused. Load-balanced replicas all write; they hold no lease, so nothing to fence with.
   */
  fenced: boolean
  /** One fence per replica group: several profiles may share one database. */
  fenceDomain: string
}

export interface ContextPlan {
  /** The store flow.get(key) uses. */
  default: ContextStoreKind
  /** The store named "shared" (the default one too when default is shared); null: none. */
  shared: SharedContextPlan | null
}

/** The shared store's defaults per target: one host shares a file, several hosts need a server. */
export function defaultSharedBackend(target: Profile['target']): SharedContextPlan['backend'] {
  return target === 'kubernetes' ? 'postgres' : 'sqlite'
}

const DEFAULT_SHARED = {path: '/var/lib/ff-ha/context.db', connectionStringEnv: 'FF_HA_CONTEXT_DATABASE_URL'}

export function contextPlan(p: Pick<Profile, 'nodeRed' | 'target' | 'mode' | 'name'>): ContextPlan {
  const c = p.nodeRed.contextStorage
  const long = typeof c === 'string' ? {default: c, shared: c === 'shared' ? {} : undefined} : c
  const wanted: {backend?: SharedContextPlan['backend']; path?: string; connectionStringEnv?: string} | undefined = long.shared ?? (long.default === 'shared' ? {} : undefined)
  if (!wanted) return {default: long.default, shared: null}
  return {
    default: long.default,
    shared: {
      backend: wanted.backend ?? defaultSharedBackend(p.target),
      path: wanted.path ?? DEFAULT_SHARED.path,
      connectionStringEnv: wanted.connectionStringEnv ?? DEFAULT_SHARED.connectionStringEnv,
      fenced: modeOf(p.mode).singleActive,
      fenceDomain: p.name,
    },
  }
}

/** sqlite: the directory that becomes the volume every replica mounts. */
export function sharedContextDir(plan: SharedContextPlan): string {
  return dirname(plan.path)
}
