/**
 * What the demo needs from Vite beyond the defaults: the page's address, its security policy
 * and the bundled test models in the built output.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Connect, Plugin, PreviewServer, ViteDevServer } from 'vite';

/** Where the page lives under the server root (the project root). */
export const DEMO_PATH = '/demo/';

/**
 * Hosts the built page may fetch models from, besides itself: the Hugging Face hub that the
 * real presets name, and its file CDNs (large files redirect to `*.hf.co` / `*.huggingface.co`).
 * Add a host of your own with `LINGOGUARD_MODEL_HOSTS="https://models.example.com"` at build.
 */
function modelHosts(): string[] {
  const extra = (process.env.LINGOGUARD_MODEL_HOSTS ?? '').split(/[\s,]+/).filter(Boolean);
  return ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co', ...extra];
}

/**
 * The built page's Content-Security-Policy. onnxruntime-web compiles WebAssembly
 * (`'wasm-unsafe-eval'`, not `'unsafe-eval'`) and may start helper workers from blob: URLs.
 * Only the build gets it: the dev server needs inline HMR code and a websocket.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    `connect-src 'self' ${modelHosts().join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * The demo's Vite plugins:
 * - `/` redirects to the page, and the page's own URL is printed when a server starts;
 * - the built page carries the CSP as a meta tag, and knows it is the built page
 *   (`import.meta.env.LINGOGUARD_BUILT_PAGE`), whatever NODE_ENV says;
 * - the build copies the small test models (`models/fixtures/fixture-*`, not the bench model or the twins),
 *   so that `vite preview` or any static host serves a page that works offline.
 */
export function demoPlugins(root: string): Plugin[] {
  const redirect: Connect.NextHandleFunction = (request, response, next) => {
    const atRoot = /^\/(\?.*)?$/.exec(request.url ?? '');
    if (!atRoot) return next();
    response.writeHead(302, { Location: DEMO_PATH + (atRoot[1] ?? '') }).end();
  };
  const printPageUrl = (server: ViteDevServer | PreviewServer) => {
    const print = server.printUrls.bind(server);
    server.printUrls = () => {
      print();
      const local = server.resolvedUrls?.local[0];
      if (local) server.config.logger.info(`\n  lingoguard demo: ${new URL(DEMO_PATH, local).href}\n`);
    };
  };
  return [
    {
      name: 'lingoguard-demo:serve',
      configureServer(server) {
        server.middlewares.use(redirect);
        printPageUrl(server);
      },
      configurePreviewServer(server) {
        server.middlewares.use(redirect);
        printPageUrl(server);
      },
    },
    {
      // `import.meta.env.PROD` follows NODE_ENV, which a test runner sets to `test` even for
      // `vite build`: the picker asks this instead whether it runs in a built page.
      name: 'lingoguard-demo:built-flag',
      config: (_, env) => ({ define: { 'import.meta.env.LINGOGUARD_BUILT_PAGE': JSON.stringify(env.command === 'build') } }),
    },
    {
      name: 'lingoguard-demo:build',
      apply: 'build',
      transformIndexHtml: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy() }, injectTo: 'head-prepend' },
      ],
      generateBundle() {
        const fixtures = join(root, 'models/fixtures');
        if (!existsSync(fixtures)) {
          this.warn('models/fixtures/ is missing: run `npm run models` first, or the built page has no offline model.');
          return;
        }
        // The small fixtures only: the twins of the real exports weigh 74-136 MB each and are
        // offered by the dev server alone (see `fillPicker`).
        for (const id of readdirSync(fixtures).filter((name) => name.startsWith('fixture-') && name !== 'fixture-bench')) {
          for (const file of filesUnder(join(fixtures, id))) {
            this.emitFile({ type: 'asset', fileName: relative(root, file), source: readFileSync(file) });
          }
        }
      },
    },
  ];
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
