#!/usr/bin/env node
'use strict';
// Everything tiphub writes (case log, media, keys, sockets) is for its own user only: files 0600,
// folders 0700, whatever umask the shell or service manager gave us.
process.umask(0o077);
// Runs the compiled CLI; `npm ci` builds it (the package's prepare script).
require('../dist/app/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.code ? `${err.code}: ${err.message}` : err); process.exitCode = 1; },
);
