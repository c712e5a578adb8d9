#!/usr/bin/env -S node --import tsx
import {execute, Plugin} from '@oclif/core'

// Development runs src/ through tsx. `npm run build` writes oclif.manifest.json, whose commands point at dist/:
// with it, oclif 4 would load dist/ here (stale, or missing). The root plugin ignores the manifest in dev mode.
const manifest = Plugin.prototype._manifest
Plugin.prototype._manifest = function () {
  if (this.isRoot) this.options.ignoreManifest = true
  return manifest.call(this)
}

await execute({development: true, dir: import.meta.url})
