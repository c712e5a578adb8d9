import {describe, expect, it} from 'vitest'
import {LineIndex} from '../../../src/flows/lines.js'

// The naive answer: count the line breaks before the offset.
function naive(text: string, offset: number) {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return {line, column: offset - (before.lastIndexOf('\n') + 1) + 1}
}

describe('LineIndex', () => {
  it('agrees with counting line breaks, at every offset of a text with short, long, empty and CRLF lines', () => {
    const lines = Array.from({length: 200}, (_, i) => 'x'.repeat((i * 7) % 23) + (i % 5 === 0 ? '\r' : ''))
    const text = lines.join('\n') + '\n'
    const index = new LineIndex(text)
    for (let offset = 0; offset <= text.length; offset++) expect(index.positionAt(offset)).toEqual(naive(text, offset))
  })

  it('answers in any order, and for a text without line breaks', () => {
    const text = 'a\n'.repeat(1000)
    const index = new LineIndex(text)
    for (const offset of [1999, 0, 1000, 31, 32, 33, 1]) expect(index.positionAt(offset)).toEqual(naive(text, offset))
    expect(new LineIndex('{"a": 1}').positionAt(5)).toEqual({line: 1, column: 6})
  })
})
