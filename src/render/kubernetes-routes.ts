import type {Profile} from '../profile/schema.js'
import {meta, template, wantsSticky, type Obj} from './kubernetes-meta.js'
import {BugError} from '../errors.js'

// The route from outside to the client Service, one renderer per ingress controller
// (kubernetes.ingress.controller), each with the stickiness that controller has. docs/design/kubernetes.md.

// ClientIP affinity where no cookie stickiness exists: clients that reach the Service itself (no host, or a
// controller that routes through the Service's cluster IP). The controllers ff-ha renders for route to pod
// endpoints directly and never see this setting, so it is left off for them.
export function clientIpAffinity(profile: Profile): boolean {
  const {host, controller} = profile.kubernetes.ingress
  return wantsSticky(profile) && (!host || controller === 'other')
}

export interface RouteKind {
  file: string
  /** Where the controller's proxies usually run (for the NetworkPolicy); undefined: unknown. */
  controllerNamespace?: string
  render(profile: Profile): Obj
}

// One renderer per ingress controller, chosen by kubernetes.ingress.controller.
export const ROUTES: Record<Profile['kubernetes']['ingress']['controller'], RouteKind> = {
  'ingress-nginx': {file: 'ingress.yaml', controllerNamespace: 'ingress-nginx', render: p => ingress(p, true)},
  traefik: {file: 'ingressroute.yaml', controllerNamespace: 'kube-system', render: ingressRoute},
  'gateway-api': {file: 'httproute.yaml', render: httpRoute},
  other: {file: 'ingress.yaml', render: p => ingress(p, false)},
}

/** A networking.k8s.io Ingress; ingress-nginx's annotations only for ingress-nginx. */
function ingress(profile: Profile, nginx: boolean): Obj {
  const t = template('ingress.yaml')
  const {host, className, tlsSecret} = profile.kubernetes.ingress
  // Websocket timeouts when the editor is on; cookie affinity when it is on with sticky sessions.
  const annotations = Object.fromEntries(
    Object.entries(t.metadata.annotations as Record<string, string>).filter(([key]) =>
      nginx && profile.http.editor && (key.includes('/proxy-') || profile.http.sticky),
    ),
  )
  const [rule] = t.spec.rules
  return {
    ...t,
    metadata: meta(profile, profile.name, Object.keys(annotations).length ? {annotations} : {}),
    spec: {
      ...(className ? {ingressClassName: className} : {}),
      ...(tlsSecret ? {tls: [{hosts: [host], secretName: tlsSecret}]} : {}),
      rules: [{...rule, host, http: {paths: rule.http.paths.map((path: Obj) => ({...path, backend: {service: {...path.backend.service, name: profile.name}}}))}}],
    },
  }
}

/** Traefik's IngressRoute: sticky cookie on the service when wanted, websecure + TLS when a secret is given. */
function ingressRoute(profile: Profile): Obj {
  const t = template('ingressroute.yaml')
  const {host, tlsSecret} = profile.kubernetes.ingress
  const [route] = t.spec.routes
  const [svc] = route.services
  const {sticky, ...plain} = svc
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      entryPoints: tlsSecret ? ['websecure'] : t.spec.entryPoints,
      routes: [
        {
          ...route,
          match: `Host(\`${host}\`)`,
          services: [{...plain, name: profile.name, ...(wantsSticky(profile) ? {sticky: {cookie: {...sticky.cookie, ...(tlsSecret ? {secure: true} : {})}}} : {})}],
        },
      ],
      ...(tlsSecret ? {tls: {secretName: tlsSecret}} : {}),
    },
  }
}

/** Gateway API HTTPRoute on the profile's Gateway; session persistence by cookie when wanted. */
function httpRoute(profile: Profile): Obj {
  const t = template('httproute.yaml')
  const {host, gateway} = profile.kubernetes.ingress
  if (!gateway) throw new BugError('kubernetes.ingress.gateway is required for gateway-api (the profile checks say so)')
  const [rule] = t.spec.rules
  const parent = {name: gateway.name, ...(gateway.namespace ? {namespace: gateway.namespace} : {}), ...(gateway.sectionName ? {sectionName: gateway.sectionName} : {})}
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      parentRefs: [parent],
      hostnames: [host],
      rules: [
        {
          ...rule,
          backendRefs: [{name: profile.name, port: profile.http.port}],
          ...(wantsSticky(profile) ? {sessionPersistence: {sessionName: 'FFHA_REPLICA', type: 'Cookie', cookieConfig: {lifetimeType: 'Session'}}} : {}),
        },
      ],
    },
  }
}
