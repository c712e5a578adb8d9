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

describe('LineIndex on any layout', () => {
  // A small seeded PRNG, so that a failure repeats.
  const rng = (seed: number) => () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)

  it('agrees with counting line breaks on texts mixing short lines, lines around 512 characters and one-line blocks', () => {
    const random = rng(7)
    for (let t = 0; t < 20; t++) {
      const parts: string[] = []
      const count = 1 + Math.floor(random() * 60)
      for (let i = 0; i < count; i++) parts.push('y'.repeat([0, 3, 511, 512, 513, 2000][Math.floor(random() * 6)]))
      const text = parts.join(random() < 0.5 ? '\n' : '\r\n') + (random() < 0.5 ? '\n' : '')
      const index = new LineIndex(text)
      for (let k = 0; k < 300; k++) {
        const offset = Math.floor(random() * (text.length + 1))
        expect(index.positionAt(offset), `text ${t} offset ${offset}`).toEqual(naive(text, offset))
      }
    }
  })

  it('a minified text (one line) answers 20,000 lookups without reading the text again for each', () => {
    const text = '[' + Array.from({length: 20_000}, (_, i) => `{"id":"n${i}","type":"inject"}`).join(',') + ']'
    const index = new LineIndex(text)
    for (let i = 0; i < 20_000; i++) {
      const offset = Math.floor((i / 20_000) * text.length)
      expect(index.positionAt(offset)).toEqual({line: 1, column: offset + 1})
    }
    // Before: each lookup read from its block start to the next line break, the whole file.
    expect(index.charsRead).toBeLessThanOrEqual(text.length)
  })

  it('a text of long lines and short lines reads at most a short block per lookup', () => {
    const text = Array.from({length: 2000}, (_, i) => (i % 3 === 0 ? 'z'.repeat(5000) : 'z'.repeat(40))).join('\n')
    const index = new LineIndex(text)
    const lookups = 5000
    for (let k = 0; k < lookups; k++) index.positionAt(Math.floor((k / lookups) * text.length))
    expect(index.charsRead / lookups).toBeLessThanOrEqual(16 * 512 + 512)
  })
})
