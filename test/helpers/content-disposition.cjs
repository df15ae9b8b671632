/**
 * Jest only: @fastify/static (Bull Board's static files) requires content-disposition 3, an ES
 * module Jest's CommonJS runtime cannot require on Node 20 (Node itself can). This gives it the
 * same call on the CommonJS 0.5 release: `create()` returns the header maker. jest.config.js maps
 * the name here; the real program never loads this file.
 */
const path = require('node:path');
const legacy = require(path.join(__dirname, '../../node_modules/content-disposition/index.js'));
module.exports = Object.assign((...args) => legacy(...args), legacy, { create: () => legacy });
