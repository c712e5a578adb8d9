// What an HA mode must answer. Every question is a required property, so a new mode cannot silently inherit
// another mode's behaviour: the compiler names each answer it is missing (docs/design/adding-a-mode.md).

/**
 * How a deploy goes. parallel: every replica at once (hot-spare: the spares at once, then the active in
 * place); rolling: waves of maxUnavailable (hot-spare: the spares so, then the active in place); in-place:
 * hot-spare's old default, the same as parallel; handover: the spares first, then the lease handed from the
 * active to an updated spare, then the old active, now a spare (docs/design/handover-deploy.md).
 */
export type DeployStrategy = 'parallel' | 'rolling' | 'in-place' | 'handover'

export interface Mode<Id extends string = string> {
  readonly id: Id
  /** One line for help texts and the profile template. */
  readonly summary: string
  /**
   * One replica runs flows at a time: the lease holder. The agent takes a lease and fences (and watches the
   * witness); render adds the lease's RBAC, volume and environment; a deploy refuses two actives; the drill
   * measures dual-active time and waits for one active, the others spares.
   */
  readonly singleActive: boolean
  readonly traffic: {
    /** Which replicas a proxy (HAProxy, a Kubernetes Service, the drill's proxy) sends requests to. */
    readonly to: 'the-active' | 'every-healthy'
    /** The agent endpoint a proxy check or readiness probe asks. */
    readonly checkPath: '/active' | '/healthz'
    /** Failed checks before a proxy takes a replica out. */
    readonly fall: number
    /** With http.editor on, the editor (session, comms) needs cookie stickiness to one replica. */
    readonly editorNeedsSticky: boolean
  }
  readonly agent: {
    /** On stop, fail /healthz and keep serving for a while, so the proxies stop sending first. */
    readonly drainsOnStop: boolean
  }
  readonly deploy: {
    readonly defaultStrategy: DeployStrategy
    /** The strategies this mode accepts (--strategy); the default among them. */
    readonly strategies: readonly DeployStrategy[]
    /** Replicas have roles (active, spare) that a deploy orders by (spares first, active last) and shows. */
    readonly roles: boolean
  }
  readonly kubernetes: {
    /** A PodDisruptionBudget that keeps N-1 replicas up during voluntary disruptions. */
    readonly podDisruptionBudget: boolean
    /** StatefulSet RollingUpdate (partition 0) instead of the template's update strategy. */
    readonly rollingUpdate: boolean
    /** The preStop wait (kubernetes.preStopSeconds) that lets endpoints forget a stopping pod. */
    readonly preStop: boolean
  }
  readonly drill: {
    /** The replica a fault hits: the active, or each replica in turn (iteration i hits replica i mod n). */
    readonly victim: 'the-active' | 'each-in-turn'
    /** A deploy during the drill must fail no request (the SLO check). */
    readonly deployFailsNoRequest: boolean
  }
}
