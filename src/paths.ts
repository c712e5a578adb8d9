import {fileURLToPath} from 'node:url'
import {dirname, join, posix} from 'node:path'

// Every default path ff-ha knows, in one place.

// The package root, whether running from dist/ (built) or src/ (tests, dev).
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
export const templatesDir = join(packageRoot, 'templates')
export const examplesDir = join(packageRoot, 'examples')

/** Where failover-test --keep writes the local cluster, and where deploy --discovery local reads it. */
export const DEFAULT_CLUSTER_FILE = posix.join('.ff-ha', 'local-cluster.json')

/** Inside every replica container. */
export const CONTAINER = {
  configDir: '/etc/ff-ha',
  profile: '/etc/ff-ha/ff-ha.yaml',
  settings: '/etc/ff-ha/settings.js',
  userDir: '/data',
} as const
