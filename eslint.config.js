// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The dashboard page (ADR 0022): cluster data reaches the DOM as text and attributes
    // only, and the CSP allows no inline style or script. Also checked by
    // test/unit/dashboard-ui/forbidden-apis.test.ts, which reads the files as text.
    files: ['src/dashboard/ui/**'],
    rules: {
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-restricted-properties': [
        'error',
        ...[
          'innerHTML',
          'outerHTML',
          'insertAdjacentHTML',
          'createContextualFragment',
          'setHTMLUnsafe',
          'srcdoc',
        ].map((property) => ({
          property,
          message: 'Markup from strings: put text in text nodes and values in attributes (dom.ts)',
        })),
        ...['style', 'cssText'].map((property) => ({
          property,
          message: 'Inline styles break under the CSP (style-src self): use a class in app.css',
        })),
        { object: 'document', property: 'write', message: 'No document.write: build elements' },
        { object: 'document', property: 'writeln', message: 'No document.writeln: build elements' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name='setAttribute'][arguments.0.value=/^(style$|on)/i]",
          message:
            'No style or event-handler attribute (the CSP blocks both): classes and listeners',
        },
      ],
    },
  },
  {
    // CommonJS configuration files (dependency-cruiser reads .cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
  {
    // Scripts and test harnesses talk to people on the terminal.
    files: ['hack/**', 'test/**', 'bench/**', 'src/cli/**', 'examples/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests poke at arbitrary API objects by path; typing every shape adds nothing there.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
