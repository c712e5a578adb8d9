// Synthetic flows files made by tiling real flows: copy k of every node gets fresh ids (`<id>-<k>`), and
// every string in it that is an id of the base (wires, z, links, g, broker, subflow types) is renamed the
// same way, so that the copies are wired like the originals and independent of each other.
import {closeSync, fsyncSync, openSync, readFileSync, writeSync} from 'node:fs'

export function loadNodes(files) {
  return files.flatMap(f => {
    const v = JSON.parse(readFileSync(f, 'utf8'))
    return Array.isArray(v) ? v : v.flows
  })
}

export function tile(base, count) {
  const ids = new Set(base.map(n => n.id))
  const out = []
  for (let k = 0; out.length < count; k++) {
    const rename = v => {
      if (typeof v === 'string') {
        if (ids.has(v)) return `${v}-${k}`
        if (v.startsWith('subflow:') && ids.has(v.slice(8))) return `subflow:${v.slice(8)}-${k}`
        return v
      }
      if (Array.isArray(v)) return v.map(rename)
      if (v && typeof v === 'object') {
        const o = {}
        for (const key in v) o[key] = rename(v[key])
        return o
      }
      return v
    }
    for (const n of base) {
      if (out.length >= count) break
      out.push(rename(n))
    }
  }
  return out
}

export function writeFlows(path, nodes, layout = nodes => JSON.stringify(nodes, null, 4) + '\n') {
  // Default layout: Node-RED's flowFilePretty style (4 spaces), as most flows.json files in the corpus are.
  // fsync: otherwise the kernel writes the file back while the first lints run, and slows them down.
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, layout(nodes))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
