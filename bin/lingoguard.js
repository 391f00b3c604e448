#!/usr/bin/env node
// The `lingoguard` executable (package.json "bin"): runs the built command line, exits with its code.

// `lingoguard ... | head` closes stdout early: stop quietly, as Unix tools do on SIGPIPE.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(141);
  throw error;
});

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
const { main } = await import(entry.href).catch((error) => {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  // Only a clone lacks dist/ (the published package ships it): say how to build it.
  process.stderr.write(`lingoguard: ${error.message.split('\n')[0]}; in a clone of the repository, run \`npm run build\` first.\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
