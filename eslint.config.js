// ESLint for src, test, bench and scripts: the recommended rules of @eslint/js and typescript-eslint that this
// code base meets (the exceptions below each say why), and one rule of our own: src throws only the typed errors
// of src/errors.ts. `npm run check` runs it; test/unit/cli/eslint-rule.test.ts proves the rule fires.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** A bare Error surfaces as "internal error, please report it": src throws only the typed errors. */
export const NO_BARE_ERROR =
  'Throw a typed error from src/errors.ts (InputError, CheckFailedError, RemoteError, TimeoutError, MissingToolError, or BugError for our own faults), not a bare Error: a bare Error reaches the user as "internal error".'

const node = {
  process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', URLSearchParams: 'readonly',
  setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', clearImmediate: 'readonly',
  performance: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly',
  TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly',
}
const commonjs = {...node, module: 'writable', exports: 'writable', require: 'readonly', __dirname: 'readonly', __filename: 'readonly'}

export default tseslint.config(
  // dist/ is built, test/golden/ is rendered output compared byte for byte, runtimes/ is installed.
  {ignores: ['dist/', 'node_modules/', 'runtimes/', 'coverage/', 'bench/results/', 'test/golden/', '**/*.d.ts']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {ecmaVersion: 2023, sourceType: 'module', globals: node},
    rules: {
      // A leading underscore marks a value left out on purpose (`{secret: _secret, ...rest}`, a callback's unused arg).
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true}],
      // The code base writes paired assignments as one comma expression (`(who = s.replica), (when = s.t)`) and
      // `a ? f() : g()` for a call either way; the rule calls both unused.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Control characters in a regular expression are the point where we strip or refuse them (terminal
      // escapes in reporters, NUL and C0 in profile values and redaction).
      'no-control-regex': 'off',
    },
  },
  {
    // Node-RED nodes, settings templates and test fixtures that Node-RED loads are CommonJS by Node-RED's
    // contract; a node's constructor keeps `this` as `node` (Node-RED's own style), and its input handler has
    // the signature (msg, send, done) whether it uses them or not.
    files: ['nodes/**/*.js', 'templates/**/*.js', '**/*.cjs', 'test/**/fixtures/**/*.js'],
    languageOptions: {sourceType: 'commonjs', globals: commonjs},
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {args: 'none', caughtErrors: 'none'}],
    },
  },
  {
    // Tests and benches read untyped JSON (rendered manifests, reports, Node-RED answers) and poke at it.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  {
    // The YAML templates are edited as untyped trees before kubernetes-models and the Compose spec validate them.
    files: ['src/render/compose.ts', 'src/render/kubernetes-meta.ts', 'src/render/template.ts'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {selector: "NewExpression[callee.name='Error']", message: NO_BARE_ERROR},
        {selector: "CallExpression[callee.name='Error']", message: NO_BARE_ERROR},
        {selector: "ClassDeclaration[superClass.name='Error']:not([id.name='FfHaError'])", message: NO_BARE_ERROR},
        {selector: 'ThrowStatement > Literal', message: NO_BARE_ERROR},
        {selector: 'ThrowStatement > TemplateLiteral', message: NO_BARE_ERROR},
      ],
    },
  },
)
