import type {FlowNode} from '../../admin/types.js'

/** Node-RED's credentials as it hands them to storage: encrypted with the shared credential secret. */
export interface EncryptedCredentials {
  $: string
}

/**
 * The newest deployed flows, shared by every replica (docs/design/editor-deploy.md). One per lease name,
 * in the lease's store. Credentials only ever in Node-RED's encrypted form.
 */
export interface FlowsRecord {
  /** Node-RED's rev of `flows` (sha256 of JSON.stringify(flows)). */
  rev: string
  flows: FlowNode[]
  credentials: EncryptedCredentials | null
  /** Whether the deploy that made this record changed credentials (a blob is invisible to Node-RED's diff). */
  credentialsChanged: boolean
  /** `editor`: a user's Deploy; `api`: a save with the shared admin token (ff-ha deploy, a script). */
  origin: 'editor' | 'api'
  /** The replica whose save committed it. */
  replica: string
  /** When (epoch ms, the committing agent's clock: for people, not for decisions). */
  at: number
}

/** The cheap part of the record that a poll reads: enough to tell whether anything changed. */
export interface RecordHead {
  version: string
  rev: string
  origin: FlowsRecord['origin']
  replica: string
}

/** A flows record store: I/O only (the decisions are in flows-sync.ts). Writes are compare-and-swap. */
export interface FlowsRecordStore {
  readonly describe: string
  /** The head, or null when no record was ever written. */
  head(): Promise<RecordHead | null>
  read(): Promise<{record: FlowsRecord; version: string} | null>
  /** The new version, or null when the version is no longer `version` (null: create, there was none). */
  write(record: FlowsRecord, version: string | null): Promise<string | null>
  close(): Promise<void>
}

/** Whether a credentials value is Node-RED's encrypted form, the only one a record may hold. */
export function isEncryptedCredentials(c: unknown): c is EncryptedCredentials {
  return typeof c === 'object' && c !== null && Object.keys(c).length === 1 && typeof (c as {$?: unknown}).$ === 'string'
}

/** The Kubernetes ConfigMap that holds the record of the Lease `<lease>` (render grants the agent exactly this one). */
export function flowsRecordName(lease: string): string {
  return `${lease}-flows`
}
