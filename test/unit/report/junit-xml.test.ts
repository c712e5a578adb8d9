import {create} from 'xmlbuilder2'
import {describe, expect, it} from 'vitest'
import {skippedScenario} from '../../../src/drill/slo.js'
import {drillJunit} from '../../../src/drill/report/junit.js'
import {junitXml} from '../../../src/report/junit-xml.js'

// Parse what we wrote and read the text and attribute values back as a CI system would.
interface XmlElement {
  textContent: string | null
  getAttribute(name: string): string | null
  getElementsByTagName(name: string): ArrayLike<XmlElement>
}

function parse(xml: string) {
  const doc = create(xml).root().node as unknown as XmlElement
  return {
    failure: doc.getElementsByTagName('failure')[0],
    skipped: doc.getElementsByTagName('skipped')[0],
  }
}

const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/
const hostile = 'end ]]> of "CDATA" & it\'s <b>\u0001\u001b[2J\ttab'

describe('JUnit XML (both writers)', () => {
  it('a message with ]]>, quotes and control characters round-trips: text as is, controls shown escaped', () => {
    const xml = junitXml({name: 'x'}, [{attrs: {name: 's'}, cases: [{attrs: {name: hostile}, children: [{tag: 'failure', attrs: {message: hostile, type: 'error'}, text: hostile}]}]}])
    expect(xml).not.toMatch(RAW_CONTROL)
    expect(xml).not.toContain(']]>')
    const {failure} = parse(xml)
    const shown = 'end ]]> of "CDATA" & it\'s <b>\\u0001\\u001b[2J\ttab'
    expect(failure.textContent).toBe(shown)
    expect(failure.getAttribute('message')).toBe(shown)
  })

  it('the drill writer escapes a skip reason the same way', () => {
    const report = {target: 'local', mode: 'hot-spare', scenarios: [skippedScenario('partition', hostile)], startedAt: 't', durationMs: 1}
    const xml = drillJunit(report as Parameters<typeof drillJunit>[0])
    expect(xml).not.toMatch(RAW_CONTROL)
    expect(parse(xml).skipped.getAttribute('message')).toBe('end ]]> of "CDATA" & it\'s <b>\\u0001\\u001b[2J\ttab')
  })

  it('U+FFFF is no XML character either: shown escaped', () => {
    expect(junitXml({name: 'a\uffffb'}, [])).toContain('name="a\\uffffb"')
  })

  it('a lone surrogate (JSON can hold "\\ud800") is shown escaped; a surrogate pair (an emoji) stays', () => {
    const xml = junitXml({name: 'a\ud800b\udc00c'}, [{attrs: {name: 's'}, cases: [{attrs: {name: 'c'}, children: [{tag: 'failure', text: 'x\ud83d\ude00y\udbffz'}]}]}])
    expect(xml).toContain('name="a\\ud800b\\udc00c"')
    expect(parse(xml).failure.textContent).toBe('x\ud83d\ude00y\\udbffz')
  })
})
