#!/usr/bin/env node
// The `lingoguard` executable (package.json "bin"): runs the built command line, exits with its code.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
