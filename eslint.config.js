// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports go one way (ARCHITECTURE.md, "Import direction"): each folder of src/ may import only the folders
 * listed for it; everything else under src/ (another folder, or a top-level file such as app.ts) is an error.
 * src/*.ts (main, app, cli, http-server, heap) are the composition root and may import anything.
 * A new folder must be given its place here.
 */
const BASE = ['observability'];
const CORE = [...BASE, 'alerts', 'matchers', 'config'];
const SERVICES = [...CORE, 'publishers'];
const layers = {
  observability: [],
  alerts: BASE,
  matchers: BASE,
  config: [...BASE, 'alerts', 'matchers'],
  publishers: CORE,
  delivery: SERVICES,
  health: SERVICES,
  discovery: SERVICES,
  dispatch: [...SERVICES, 'delivery', 'health', 'discovery'],
  // The dead man's switch pages through the same targets as dispatch; it keeps its state in the ledger.
  deadman: [...SERVICES, 'delivery', 'health', 'discovery'],
  receiver: [...SERVICES, 'delivery', 'health', 'discovery', 'dispatch', 'deadman'],
  api: [...SERVICES, 'delivery', 'health', 'discovery', 'dispatch', 'deadman', 'receiver'],
  commands: [...SERVICES, 'delivery', 'health', 'discovery', 'dispatch', 'deadman'],
};
/** Modules of a ledger backend: nothing outside src/delivery imports them (the composition root opens the ledger). */
const LEDGER_BACKEND = ['sqlite', 'postgres', 'writer-thread', 'ledger-thread', 'checkpoint'];
const importDirection = Object.entries(layers).map(([folder, allowed]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: allowed.length ? `^\\.\\./(?!(${allowed.join('|')})/)` : '^\\.\\./',
            message: `src/${folder} may import only ${allowed.length ? allowed.map((f) => `src/${f}`).join(', ') : 'nothing else in src'} (imports go one way: see ARCHITECTURE.md).`,
          },
          {
            regex: `^\\.\\./delivery/(${LEDGER_BACKEND.join('|')})\\.js$`,
            message: 'A storage backend stays behind the Ledger interface (src/delivery/ledger.ts); only the composition root (src/app.ts) opens one.',
          },
        ],
      },
    ],
  },
}));
// A backend in a folder of its own (src/delivery/postgres): the rest of src/delivery is one level up, the allowed
// folders two; it never reaches into another backend.
importDirection.push({
  files: ['src/delivery/postgres/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^\\.\\./\\.\\./(?!(${layers.delivery.join('|')})/)`,
            message: `src/delivery may import only ${layers.delivery.map((f) => `src/${f}`).join(', ')} (imports go one way: see ARCHITECTURE.md).`,
          },
          {
            regex: `^\\.\\./(${LEDGER_BACKEND.join('|')})\\.js$`,
            message: 'One ledger backend does not reach into another: share through src/delivery (records.ts, ledger.ts, types.ts).',
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'data/', '.bench-scratch/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly', AbortSignal: 'readonly', AbortController: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...importDirection,
);
