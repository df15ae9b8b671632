#!/usr/bin/env node
'use strict';
// Runs the compiled CLI; `npm ci` builds it (the package's prepare script).
require('../dist/src/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.code ? `${err.code}: ${err.message}` : err); process.exitCode = 1; },
);
