import type {ReplicaTarget} from '../../admin/types.js'
import {InputError} from '../../errors.js'

/** `--target URL` (named host:port) or `--target name=URL`. */
export function parseTarget(spec: string): ReplicaTarget {
  const eq = spec.indexOf('=')
  const named = eq > 0 && !spec.slice(0, eq).includes('/') && !spec.slice(0, eq).includes(':')
  const name = named ? spec.slice(0, eq) : undefined
  const raw = named ? spec.slice(eq + 1) : spec
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(`--target ${spec}: not a URL`, 'give the admin API URL, e.g. --target http://127.0.0.1:1880/ or --target a=http://10.0.0.5:1880/')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`--target ${spec}: must be an http:// or https:// URL`, 'give the admin API URL, e.g. --target http://127.0.0.1:1880/')
  if (url.username || url.password) throw new InputError(`--target: do not put credentials in the URL`, 'use --token-env or --username with FF_HA_ADMIN_PASSWORD')
  return {name: name ?? url.host, url: url.href}
}

export function parseTargets(specs: string[]): ReplicaTarget[] {
  return specs.map(parseTarget)
}
