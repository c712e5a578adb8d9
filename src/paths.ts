import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

// The package root, whether running from dist/ (built) or src/ (tests, dev).
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
export const templatesDir = join(packageRoot, 'templates')
export const examplesDir = join(packageRoot, 'examples')
