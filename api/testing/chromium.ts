/** Debian's chromium package for the console's browser tests and bench (never a downloaded browser). */
export const CHROMIUM = process.env.AUTOPILOT_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
