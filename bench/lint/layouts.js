// The layouts flows files come in, as text from nodes: what Node-RED writes with flowFilePretty (4 spaces),
// what it writes without it and what GET /flows and editor exports give (one line, minified), and the
// other layouts found in ../shared/corpus (2 spaces, tabs, CRLF line breaks), plus the admin API's v2
// object {flows, rev} on one line.
export const LAYOUTS = {
  pretty: nodes => JSON.stringify(nodes, null, 4) + '\n',
  minified: nodes => JSON.stringify(nodes),
  'two-spaces': nodes => JSON.stringify(nodes, null, 2) + '\n',
  tabs: nodes => JSON.stringify(nodes, null, '\t'),
  crlf: nodes => JSON.stringify(nodes, null, 4).replace(/\n/g, '\r\n') + '\r\n',
  'v2-minified': nodes => JSON.stringify({flows: nodes, rev: 'bench'}),
}
