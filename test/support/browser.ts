// A real browser for tests: Debian's Chromium driven by playwright-core (`npx playwright install` cannot
// download a browser on these machines). Chromium is launched headless with a fresh profile and with its
// background traffic (updates, sync, field trials) off: the machine has no internet, and a test must only
// talk to the loopback addresses it started.
import {existsSync} from 'node:fs'
import {chromium, type Browser, type BrowserContext} from 'playwright-core'

export const CHROMIUM = process.env.FF_HA_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Why the browser tests cannot run here, or null when Chromium is present. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null
  return `Chromium is not at ${CHROMIUM}: the real-browser tests did NOT run. Install it with \`apt-get install chromium\` (Debian), or set FF_HA_CHROMIUM to a Chromium binary.`
}

/**
 * Say loudly, once per file, that the browser tests did not run (a silent skip would read as a pass).
 * Returns true when they can run.
 */
export function browserAvailable(): boolean {
  const missing = browserMissing()
  if (missing) process.stderr.write(`\n*** ${missing} ***\n\n`)
  return missing === null
}

export interface RunningBrowser {
  browser: Browser
  /** A new isolated context (own cookies and storage), closed with the browser. */
  context(): Promise<BrowserContext>
  close(): Promise<void>
}

/**
 * Launch Chromium headless. Every launch() gets a fresh --user-data-dir: playwright makes a new temporary
 * profile directory for it and removes it on close (it refuses a --user-data-dir in args; only
 * launchPersistentContext takes one, and that allows a single context, while the tests need several).
 */
export async function launchBrowser(): Promise<RunningBrowser> {
  const missing = browserMissing()
  if (missing) throw new Error(missing)
  const browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000})
  return {
    browser,
    context: () => browser.newContext({viewport: {width: 1400, height: 850}}),
    async close() {
      await browser.close().catch(() => {})
    },
  }
}
