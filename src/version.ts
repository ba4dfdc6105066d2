import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Versions recorded with every run, so that a third party can reproduce it. */
export const TOOL_VERSION: string = (require('../package.json') as { version: string }).version;
export const MAILAUTH_VERSION: string = (require('mailauth/package.json') as { version: string }).version;
export const NODE_VERSION: string = process.version;
