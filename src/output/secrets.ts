// Secrets (admin tokens, passwords, credential secrets) are registered here the moment they are read, so
// that every message that leaves the process can be scrubbed of them, whatever path it took.

const secrets = new Set<string>()

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value)
}

export function redact(text: string): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join('***')
  return out
}
