import {z} from 'zod'
import {profileSchema} from './schema.js'

export const PROFILE_SCHEMA_ID = 'https://unpkg.com/ff-ha/schemas/ff-ha.schema.json'

// Formats that JSON Schema draft-07 defines; zod also emits its own names (e.g. "starts_with" beside the
// pattern it already writes), which editors and validators would reject or ignore.
const DRAFT7_FORMATS = new Set(['date-time', 'date', 'time', 'email', 'idn-email', 'hostname', 'idn-hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'iri', 'iri-reference', 'uri-template', 'json-pointer', 'relative-json-pointer', 'regex'])

/** The profile's JSON Schema (draft-07, what ff-ha.yaml may contain), generated from the zod schema. */
export function profileJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(profileSchema, {target: 'draft-7', io: 'input', unrepresentable: 'any'}) as Record<string, unknown>
  const clean = dropUnknownFormats(generated) as Record<string, unknown>
  const {$schema, ...rest} = clean
  return {$schema, $id: PROFILE_SCHEMA_ID, title: 'ff-ha HA profile (ff-ha.yaml)', ...rest}
}

function dropUnknownFormats(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropUnknownFormats)
  if (!node || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === 'format' && typeof v === 'string' && !DRAFT7_FORMATS.has(v)) continue
    out[k] = dropUnknownFormats(v)
  }
  return out
}
