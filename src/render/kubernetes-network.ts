import type {Profile} from '../profile/schema.js'
import {meta, selectorLabels, template, type Obj} from './kubernetes-meta.js'
import {ROUTES} from './kubernetes-routes.js'
import {podsUseLeaseApi} from './singleton-lease.js'

// The replicas' NetworkPolicy: who reaches Node-RED and the agent, and where they may connect.
// docs/design/kubernetes.md, section 8.

/** The namespaces whose pods reach Node-RED's port: the profile's, and the ingress controller's when known. */
export function httpFromNamespaces(profile: Profile): string[] | 'any' {
  const k = profile.kubernetes
  if (k.networkPolicy.httpFrom) return k.networkPolicy.httpFrom
  if (!k.ingress.host) return [k.namespace]
  const controllerNamespace = ROUTES[k.ingress.controller].controllerNamespace
  // Gateway API and other controllers run their proxies where their installer chose, some outside the cluster
  // (cloud load balancers) or on the nodes: open Node-RED's port to every source rather than cut the route;
  // kubernetes.networkPolicy.httpFrom narrows it. The status port stays closed.
  if (!controllerNamespace) return 'any'
  return [...new Set([k.namespace, controllerNamespace])]
}

export function networkPolicy(profile: Profile): Obj {
  const t = template('networkpolicy.yaml')
  const np = profile.kubernetes.networkPolicy
  const fromNamespaces = (names: string[]) => names.map(name => ({namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': name}}}))
  const httpFrom = httpFromNamespaces(profile)
  const [httpRule] = t.spec.ingress
  const [dns, apiServer] = t.spec.egress
  const brokerPort = mqttPort(profile.mqtt.broker)
  return {
    ...t,
    metadata: meta(profile, profile.name),
    spec: {
      ...t.spec,
      podSelector: {matchLabels: selectorLabels(profile)},
      ingress: [
        // No "from": every source.
        httpFrom === 'any' ? {ports: httpRule.ports} : {...httpRule, from: fromNamespaces(httpFrom)},
        ...(np.statusFrom.length ? [{from: fromNamespaces(np.statusFrom), ports: [{port: 'status', protocol: 'TCP'}]}] : []),
      ],
      egress: [
        dns,
        ...(podsUseLeaseApi(profile) ? [{...apiServer, to: np.apiServer.map(cidr => ({ipBlock: {cidr}}))}] : []),
        ...(np.flowEgress === 'none' && brokerPort ? [{ports: [{port: brokerPort, protocol: 'TCP'}]}] : []),
        // The flows' own connections (brokers, databases, HTTP APIs): anywhere, unless the profile says none.
        ...(np.flowEgress === 'any' ? [{}] : []),
      ],
    },
  }
}

/** The broker URL's port (the scheme's default when none is given). */
function mqttPort(url: string | undefined): number | undefined {
  if (!url) return undefined
  const defaults: Record<string, number> = {'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443}
  try {
    const u = new URL(url)
    return u.port ? Number(u.port) : defaults[u.protocol]
  } catch {
    return undefined
  }
}
