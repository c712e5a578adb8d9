import {z} from 'zod'

// String types per target syntax. A profile value lands in haproxy.cfg (space-separated words, `#` comments,
// one directive a line), compose.yaml (`$` interpolation, `src:dst` volume strings), Kubernetes objects (DNS
// names, quantities), settings.js (JSON-escaped) and the agent's own reading of the copied profile. Each type
// admits only what its target reads as one inert value, so no field can inject a directive, a line, a mount or
// an interpolation, and the renderers need no escaping of their own. Every type refuses control characters
// (a newline, an escape) with the same message, whatever else it checks.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const noControl = (s: string) => !CONTROL.test(s)
const NO_CONTROL = 'must be one line without control characters'

/** Any single-line text: for values that are only JSON-escaped (settings.js) or read back by ff-ha itself. */
export const singleLine = z.string().min(1, 'must not be empty').refine(noControl, NO_CONTROL)

/** A DNS-1123 label (a Kubernetes object or namespace name, a Compose project or service name). */
export const dns1123Label = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit')
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** A DNS-1123 subdomain: the name of a Secret, an IngressClass, a StorageClass. */
export const dns1123Subdomain = z
  .string()
  .regex(SUBDOMAIN, 'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", each part starting and ending with a letter or digit')
  .max(253, 'must be at most 253 characters (a DNS-1123 subdomain)')

/** An Ingress host: a DNS-1123 subdomain, optionally a wildcard `*.` in front (what the Ingress API accepts). */
export const ingressHost = z
  .string()
  .refine(s => SUBDOMAIN.test(s.replace(/^\*\./, '')), 'must be a host name like node-red.example.com (lower-case, no port, no scheme), or *.example.com')
  .max(253, 'must be at most 253 characters (a DNS name)')

/** A Kubernetes resource quantity (`100m`, `0.5`, `256Mi`, `1e3`). A YAML number is taken as written. */
export const kubernetesQuantity = z
  .union([z.string(), z.number().nonnegative().finite().transform(String)])
  .pipe(z.string().regex(/^(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+|[mkMGTPE]|[KMGTPE]i)?$/, 'must be a Kubernetes quantity like 500m, 1, 256Mi or 2Gi'))

/** An absolute path inside a container, usable as a Compose mount target and an environment value. */
export const containerPath = z
  .string()
  .regex(/^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/, 'must be an absolute path of letters, digits, ".", "_" and "-" (no spaces, ":", "$" or ";") like /var/lib/ff-ha/lease.db')
  .max(1024, 'must be at most 1024 characters')

/** A URL path prefix (httpAdminRoot): it becomes one word of an HAProxy ACL, so only unreserved characters. */
export const urlPathPrefix = z
  .string()
  .regex(/^\/([A-Za-z0-9_~-][A-Za-z0-9._~-]*(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?)?$/, 'must be a URL path like / or /admin: "/"-separated letters, digits, ".", "_", "~" and "-"')

/**
 * A container image reference (Docker's reference grammar, simplified): [registry[:port]/]path[:tag][@digest].
 * It lands in compose.yaml, where a `$` would be interpolated, and in a pod's image field.
 */
export const imageReference = z
  .string()
  .max(512, 'must be at most 512 characters')
  .regex(
    /^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?\/)?[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(\/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    'must be an image reference like registry.example.com/team/node-red:4.1.8',
  )

/** An MQTT broker URL: mqtt, mqtts, ws, wss or tcp, with a host. */
export const brokerUrl = z
  .string()
  .refine(noControl, NO_CONTROL)
  .refine(s => {
    if (/\s/.test(s)) return false
    try {
      const u = new URL(s)
      return /^(mqtts?|wss?|tcp):$/.test(u.protocol) && u.hostname !== ''
    } catch {
      return false
    }
  }, 'must be a URL like mqtt://host:1883 (mqtt, mqtts, ws, wss or tcp; no spaces)')

/** host:port, the host a DNS name or an IPv4 address, or [IPv6]:port. */
export const hostPort = z
  .string()
  .regex(/^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'must be host:port like haproxy:1880')
  .refine(s => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1))
    return port >= 1 && port <= 65535
  }, 'must be host:port with a port from 1 to 65535')

/** An http(s) URL of a replica or an agent. */
export const httpUrl = z
  .string()
  .refine(noControl, NO_CONTROL)
  .refine(s => {
    try {
      return /^https?:$/.test(new URL(s).protocol) && !/\s/.test(s)
    } catch {
      return false
    }
  }, 'must be an http or https URL like http://10.0.0.5:1880')

/** A JSON value (settings.js gets JSON): YAML's binary, sets and other non-JSON types are refused. */
export const jsonValue = z.json()
