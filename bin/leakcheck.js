#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through Node's type stripping (Node >= 22.18),
// so there is no build step whose output could drift from the source that was reviewed.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv);
