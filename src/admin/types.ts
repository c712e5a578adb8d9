/** One node of a flows file, as the admin API and flows.json carry it. */
export type FlowNode = {id: string; type: string; z?: string; [key: string]: unknown}

export type FlowsState = 'start' | 'stop' | 'safe'

export type DeploymentType = 'full' | 'nodes' | 'flows' | 'reload'

/** Where a replica's admin API is. */
export interface ReplicaTarget {
  name: string
  /** Admin API base URL, including the admin root, e.g. http://127.0.0.1:1880/ */
  url: string
  /** The ff-ha agent's status server, when there is one. */
  agentUrl?: string
}

export interface AdminAuth {
  /** The shared admin token that the rendered settings accept. */
  token?: string
  /** Or a login, exchanged at /auth/token on each replica (tokens are per replica). */
  username?: string
  password?: string
}

/** Node credentials by node id, plaintext: { "<node id>": { "user": "...", "password": "..." } }. */
export type Credentials = Record<string, Record<string, unknown>>
