import {createRequire} from 'node:module'
import {renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {RemoteError, errorMessage} from '../errors.js'
import {contextPlan} from '../model/context-storage.js'
import {ENV} from '../model/env.js'
import type {Profile} from '../profile/schema.js'
import {packageRoot} from '../paths.js'

// Hot-spare fencing of the shared context store (docs/design/shared-context.md, "Fencing"), the agent's half.
// Node-RED's store reads this replica's lease token from a file at every write; the agent keeps that file:
// written with the tenure's token before the flows start, removed the moment the agent stops leading. A
// spare has no file, so its writes are refused. And before the flows start, the agent raises the store's
// fence to its token itself, so that an old holder that wakes up from a pause is refused at its first write,
// even if the new holder has not written anything yet.

/** What raiseFence (nodes/context/store) needs: the store's config without the token seam. */
export interface FenceTarget {
  backend: 'sqlite' | 'postgres'
  path?: string
  connectionString?: string
  fenceDomain: string
}

type RaiseFence = (config: FenceTarget, token: number) => Promise<void>

/** The token file inside the replica's userDir: its own, never on a shared volume. */
export function contextTokenFile(userDir: string): string {
  return join(userDir, '.ff-ha-context-token')
}

export class ContextFence {
  private armed: number | null = null

  constructor(
    readonly tokenFile: string,
    private readonly target: FenceTarget,
    private readonly raise: RaiseFence = loadRaiseFence(),
  ) {}

  /** Where the fence is, for the agent's start log (never the connection string: it holds a password). */
  describe(): string {
    return this.target.backend === 'sqlite' ? `sqlite ${this.target.path}` : 'postgres'
  }

  /** No lease here: remove the token, so that every write of this replica is refused. Synchronous. */
  clear(): void {
    this.armed = null
    rmSync(this.tokenFile, {force: true})
  }

  /**
   * About to start flows for tenure `token`: raise the store's fence to it, then write the token file (by
   * rename, so the store never reads half a number). Once per tenure; a retry after a failure tries again.
   */
  async arm(token: number): Promise<void> {
    if (this.armed === token) return
    try {
      await this.raise(this.target, token)
    } catch (err) {
      throw new RemoteError(`cannot raise the shared context's fence to token ${token} (${this.describe()}): ${errorMessage(err)}`, {
        hint: 'flows start once the store is reachable; check nodeRed.contextStorage and the store',
      })
    }
    const tmp = `${this.tokenFile}.${process.pid}.tmp`
    writeFileSync(tmp, `${token}\n`)
    renameSync(tmp, this.tokenFile)
    this.armed = token
  }
}

function loadRaiseFence(): RaiseFence {
  // The plugin is CommonJS because Node-RED require()s it from settings.js; the agent uses the same code.
  const require = createRequire(import.meta.url)
  return (require(join(packageRoot, 'nodes', 'context', 'store')) as {raiseFence: RaiseFence}).raiseFence
}

/**
 * The agent's fence, or null when there is nothing to fence: no shared store, or a mode where every replica
 * runs flows (load-balanced holds no lease). `env` is the agent's: a local sqlite path and the connection string.
 */
export function contextFenceFor(profile: Profile, userDir: string, env: Record<string, string | undefined>): ContextFence | null {
  const shared = contextPlan(profile).shared
  if (!shared?.fenced) return null
  const target: FenceTarget = {backend: shared.backend, fenceDomain: shared.fenceDomain}
  if (shared.backend === 'sqlite') target.path = env[ENV.contextPath] || shared.path
  else target.connectionString = env[shared.connectionStringEnv]
  return new ContextFence(contextTokenFile(userDir), target)
}
