// Strings from a flows file (node names, ids, types, topics, tab labels, file names) are the user's data
// and may hold anything: ESC[2J in a name cleared the screen in stylish output, and a raw \u0002 landed in
// a GitHub annotation. Every human format passes them through here, so that each control character shows
// as a visible escape and never acts on the terminal or the log: C0 and C1 controls, DEL, the Unicode line
// and paragraph separators, and the bidirectional overrides that make text display in another order than
// it is read ("Trojan Source"). Machine formats (JSON, SARIF) escape for themselves and keep the data as is.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Controls but for line break, carriage return and tab (for XML text, where those are whitespace). */
const CONTROL_BUT_SPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * `s` with each control character as `\uXXXX` (`\n`, `\r`, `\t` as those escapes). `keepWhitespace`:
 * leave line breaks, carriage returns and tabs as they are (for text meant to span lines).
 */
export function printable(s: string, keepWhitespace = false): string {
  return s.replace(keepWhitespace ? CONTROL_BUT_SPACE : CONTROL, c => {
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    if (c === '\t') return '\\t'
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}
