// Secrets (admin tokens, passwords, credential secrets) are registered here the moment they are read, so
// that every message that leaves the process can be scrubbed of them, whatever path it took.

const secrets = new Set<string>()

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4) return
  secrets.add(value)
  // Most output is JSON (the agent's log, --json, the status server): there a secret with a quote, a
  // backslash or a control character appears escaped, and the raw form would not match.
  const escaped = JSON.stringify(value).slice(1, -1)
  if (escaped !== value) secrets.add(escaped)
}

export function redact(text: string): string {
  let out = text
  // Longest first: a secret that contains another is scrubbed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  return out
}
