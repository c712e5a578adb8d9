import type {z} from 'zod'
import type {ProfileIssue} from '../../../profile/checks.js'
import type {Profile, Timings} from '../../../profile/schema.js'
import type {LivenessOpening} from '../liveness.js'
import type {LeaseStore} from '../store.js'

/** Where a replica runs: the profile's target. */
export type LeaseTarget = 'compose' | 'kubernetes'

/** What every backend's agent config holds besides its own options: which lease, in which scope. */
export interface LeaseIdentity {
  /** The lease's name: FF_HA_LEASE_NAME, else `<profile name>-leader`. */
  name: string
  /** Its scope where the backend has one (the Kubernetes namespace; the profile's kubernetes.namespace). */
  namespace: string
}

/** What a backend reads to build its options: the profile, the agent's flags and its environment. */
export interface LeaseOptionsInput {
  profile: Profile
  /** --lease-file (the only backend flag today); backends that need none ignore it. */
  leaseFile?: string
  env: NodeJS.ProcessEnv
  cwd: string
}

/** The agent's environment and volumes on one Compose host. */
export interface ComposeLeasePiece {
  environment: Record<string, string>
  /** Named volumes every replica mounts (a shared lease file's directory). */
  volumes: {name: string; mountPath: string}[]
}

/** The agent's environment in a pod, and the Lease RBAC it needs (null: none). */
export interface KubernetesLeasePiece {
  /** A value, or a key of the profile's Kubernetes Secret (secrets.kubernetesSecret) for a credential. */
  env: ({name: string; value: string} | {name: string; secretKey: string})[]
  /** The leases the agent's ServiceAccount may get/create/update (coordination.k8s.io). */
  rbac: {resourceNames: string[]} | null
}

/**
 * A lease backend: everything the profile, the agent and render need to know about one kind of lease store.
 * One module per backend; index.ts lists them. Nothing here is a secret: a backend's profile fields name
 * endpoints, files and the environment variables that hold credentials, never a credential itself.
 */
export interface LeaseBackend<Id extends string = string, Options extends object = object, Fields extends z.core.$ZodLooseShape = z.core.$ZodLooseShape> {
  readonly id: Id
  /** One line for the profile template and errors: what it is and where it serves. */
  readonly summary: string
  /** The targets it can serve as the hot-spare lease, and the target it is the default for (if any). */
  readonly targets: readonly LeaseTarget[]
  readonly defaultFor: LeaseTarget | null
  /** Its fields in the profile's failover section (merged into failoverSchema; each with its default). */
  readonly profileFields: Fields
  /** Why it cannot serve a target it does not list (failover.lease's error there); else a generic one. */
  wrongTarget?(target: LeaseTarget): ProfileIssue
  /** Its own cross-field rules on a hot-spare profile that uses it, at the path of the field to change. */
  profileIssues?(profile: Profile): ProfileIssue[]
  /** The timings a profile gets when it sets none (they must keep machine.ts's invariants 1 and 2). */
  readonly defaultTimings: Timings
  /**
   * How often a candidate (not the holder) reads the lease: null keeps to retryPeriod. Only where a read is
   * local and cheap (a SELECT on a file): a released lease is then seen sooner.
   */
  readonly candidatePollMs: number | null
  /** Its part of the agent's config. Throws InputError on a bad value. */
  options(input: LeaseOptionsInput): Options
  /** Open the store. Throws RemoteError (naming the replica, with a hint) when it cannot. */
  open(config: LeaseIdentity & Options, replica: string): Promise<LeaseStore>
  /**
   * Where a whole replica's death can be proven at once (liveness.ts: one kernel, a local filesystem), hold
   * this replica's liveness and probe others'. `covered`: its Node-RED can hold the lock too.
   */
  openLiveness?(config: LeaseIdentity & Options, replica: string, covered: boolean): Promise<LivenessOpening>
  /** What render adds to each replica, per target it serves. */
  readonly render: {
    compose?(profile: Profile): ComposeLeasePiece
    kubernetes?(profile: Profile): KubernetesLeasePiece
  }
}

/** The lease's default name, shared by the agent and render (the Role allows only this one). */
export function defaultLeaseName(profile: Pick<Profile, 'name'>): string {
  return `${profile.name}-leader`
}
