// Where a JSON text is broken, as an offset and a few words. JSON.parse names a position for most errors;
// for the rest ("Unexpected token 'x', "..." is not valid JSON", which also quotes the text) a small
// validator finds it. Only run on failure, so it may be simple rather than fast.
// Kept rather than json-parse-(even-)better-errors (issue 12 point 7): those read the position out of V8's
// message as the first branch below does, and give none where V8 names none. `node bench/lib-choice/run.js`
// (2026-12-06, 7.6 MB file): on a trailing comma or a bad literal the library answers "no position" (in 33
// and 22 ms), this file names the offset (179 and 69 ms); where V8 names one, both take the same path.

export interface JsonSyntaxProblem {
  offset: number
  what: string
}

export function locateJsonError(text: string, err: Error): JsonSyntaxProblem {
  const m = /^(.*?) in JSON at position (\d+)/.exec(err.message)
  if (m) return {offset: Number(m[2]), what: lowerFirst(m[1])}
  if (/Unexpected end of JSON input/.test(err.message)) return {offset: text.length, what: 'unexpected end of the file (truncated?)'}
  return validate(text) ?? {offset: 0, what: 'not valid JSON'}
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09])

/** The first syntax error in text, or undefined when it is valid. */
export function validate(text: string): JsonSyntaxProblem | undefined {
  let i = 0
  const fail = (what: string): JsonSyntaxProblem => ({offset: Math.min(i, text.length), what})
  const ws = () => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++
  }
  const describe = () => (i >= text.length ? 'unexpected end of the file (truncated?)' : `unexpected ${JSON.stringify(text[i])}`)
  // An explicit stack, so deep nesting cannot overflow ours.
  const stack: Array<'[' | '{'> = []
  const value = (): JsonSyntaxProblem | undefined => {
    ws()
    const c = text[i]
    if (c === '"') return string()
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
      if (!m) return fail(`bad number`)
      i += m[0].length
      return undefined
    }
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length
        return undefined
      }
    }
    return fail(`${describe()} where a value was expected`)
  }
  const string = (): JsonSyntaxProblem | undefined => {
    i++
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return undefined
      }
      if (c < 0x20) return fail('control character (a raw line break?) inside a string')
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('bad \\u escape in a string')
          i += 6
          continue
        }
        if (!'"\\/bfnrt'.includes(e ?? 'x')) return fail('bad escape in a string')
        i += 2
        continue
      }
      i++
    }
    return fail('unterminated string (truncated?)')
  }
  // Iterative walk: after each value, expect a separator or a close for the innermost container.
  ws()
  for (;;) {
    ws()
    const c = text[i]
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
      } else {
        stack.push('[')
        continue
      }
    } else if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
      } else {
        if (text[i] !== '"') return fail(`${describe()} where a property name in double quotes was expected`)
        const bad = string()
        if (bad) return bad
        ws()
        if (text[i] !== ':') return fail(`${describe()} where ':' was expected after a property name`)
        i++
        stack.push('{')
        continue
      }
    } else {
      const bad = value()
      if (bad) return bad
    }
    // A value is complete: close containers or move to the next element.
    for (;;) {
      ws()
      const top = stack[stack.length - 1]
      if (top === undefined) {
        if (i < text.length) return fail(`${describe()} after the end of the JSON value`)
        return undefined
      }
      const close = top === '[' ? ']' : '}'
      if (text[i] === close) {
        i++
        stack.pop()
        continue
      }
      if (text[i] !== ',') return fail(`${describe()} where ',' or '${close}' was expected`)
      i++
      ws()
      if (top === '{') {
        if (text[i] !== '"') return fail(`${describe()} where a property name in double quotes was expected`)
        const bad = string()
        if (bad) return bad
        ws()
        if (text[i] !== ':') return fail(`${describe()} where ':' was expected after a property name`)
        i++
      }
      break
    }
  }
}
