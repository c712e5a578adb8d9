// The JUnit XML both `lint flows --format junit` and `failover-test --junit` write: testsuites > testsuite >
// testcase > failure | skipped | system-out. xmlbuilder2 does the escaping; what it cannot do is carry the
// control characters XML 1.0 forbids (even as references), so every string passes through xmlText first.
import {createRequire} from 'node:module'
import {printable} from '../flows/printable.js'

// Loaded on first use: xmlbuilder2 takes ~85 ms to import, and most lint runs write no JUnit (issue 12 point 10).
const require = createRequire(import.meta.url)

/** Attributes in the order they are written. */
export type XmlAttrs = Record<string, string | number>

export interface JunitChild {
  tag: 'failure' | 'skipped' | 'system-out'
  attrs?: XmlAttrs
  text?: string
}

export interface JunitCase {
  attrs: XmlAttrs
  children: JunitChild[]
}

export interface JunitSuite {
  attrs: XmlAttrs
  cases: JunitCase[]
}

export function junitXml(rootAttrs: XmlAttrs, suites: JunitSuite[]): string {
  const {create} = require('xmlbuilder2') as typeof import('xmlbuilder2')
  const root = create({version: '1.0', encoding: 'UTF-8'}).ele('testsuites', attrs(rootAttrs))
  for (const suite of suites) {
    const s = root.ele('testsuite', attrs(suite.attrs))
    for (const c of suite.cases) {
      const tc = s.ele('testcase', attrs(c.attrs))
      for (const child of c.children) {
        const el = tc.ele(child.tag, attrs(child.attrs ?? {}))
        if (child.text !== undefined) el.txt(xmlText(child.text))
      }
    }
  }
  // wellFormed: a character xmlText let through would fail here, not in the CI system that reads the file.
  return root.end({prettyPrint: true, wellFormed: true}) + '\n'
}

/**
 * `s` as XML 1.0 can carry it: each forbidden control character shown escaped (as the human formats do), and
 * U+FFFE and U+FFFF and lone surrogates (a JSON string can hold "\ud800"), which are not characters in XML
 * either. Line breaks and tabs stay.
 */
export function xmlText(s: string): string {
  return printable(s, true).replace(NOT_XML_CHAR, c => `\\u${c.charCodeAt(0).toString(16)}`)
}

const NOT_XML_CHAR = /[\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function attrs(a: XmlAttrs): Record<string, string> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, xmlText(String(v))]))
}
