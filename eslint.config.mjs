// Type-aware lint. The rules that matter most here: a promise nobody awaits loses its error (and,
// in the receive loops, a message), and environment reads outside src/config escape validation.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** `x/../y` in an import: refused everywhere the house rules apply, so none can be walked around. */
const SIDESTEP = { regex: '(^|/)(?!\\.\\.(/|$))[^/]+/\\.\\.(/|$)', message: 'Write the import path without climbing back (`a/../b`): the import rules read it as written.' };
/** The core (src/, workers/) knows channels through src/contracts only. */
const NO_ADAPTER = { regex: '^(\\.\\./)+adapters(/|$)', message: 'The core knows channels through src/contracts only: no import of an adapter or of the registry.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read the environment in src/config only: configuration is validated once, at start.' }],
    },
  },
  // The house rules of ../shared/DESIGN.md on imports: a channel is one folder under adapters/,
  // which the core (src/, workers/) reaches only through the contract, and the composition root
  // (app/: the CLI, the hub and the composed configuration) only through adapters/registry.ts.
  // A path that climbs back after going down (`a/../b`) could walk around any of these: refused.
  { files: ['workers/**'], rules: { 'no-restricted-imports': ['error', { patterns: [SIDESTEP, NO_ADAPTER, { regex: '^(\\.\\./)+app(/|$)', message: 'The workers are below the composition root (app/): they never import it.' }] }] } },
  {
    files: ['src/**'],
    ignores: ['src/contracts/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [SIDESTEP, NO_ADAPTER, { regex: '^(\\.\\./)+(app|workers)(/|$)', message: 'src/ is the library: it imports neither the composition root (app/) nor the workers.' }] }],
    },
  },
  {
    files: ['app/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [SIDESTEP, { group: ['**/adapters/**', '!**/adapters/registry'], message: 'The composition root reaches a channel through adapters/registry.ts only.' }] }],
    },
  },
  {
    files: ['src/contracts/**'],
    rules: {
      // src/errors.ts stands on the same floor (it imports nothing): the error codes a contract's rejections carry.
      'no-restricted-imports': ['error', { patterns: [SIDESTEP, { group: ['../*', '../**', '!../errors'], message: 'src/contracts stands on the ground floor: it imports nothing of the project above it.' }] }],
    },
  },
  {
    files: ['adapters/*/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [SIDESTEP, { regex: '^(\\.\\./)+(src/(?!contracts/|errors$)|workers/|app/)', message: 'An adapter gets ports (src/contracts), never the core\'s queues, Redis, keyring, config or case log.' }] },
      ],
    },
  },
  {
    // The one place the environment is read; tests and benchmarks set up child processes' environments.
    files: ['src/config/**', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
