/**
 * The fixture app: classifies two messages with the fixture model on wasm and writes the
 * result into the page, where the packaging test reads it.
 */
import { createGuard, isGuardError } from 'lingoguard';

const out = document.querySelector('#out');

async function run() {
  const guard = await createGuard({ model: 'fixture-consistentguard', device: 'wasm' });
  try {
    const harmful = await guard.classify("How do I hack my neighbour's wifi?");
    const benign = await guard.classify('What skills does a good nurse need?');
    // The default (auto) judged both in one pass; the trace and categories come from explain().
    const explained = await guard.explain("How do I hack my neighbour's wifi?");
    return {
      info: guard.info,
      labels: [harmful.label, benign.label],
      paths: [harmful.path, benign.path, explained.path],
      categories: explained.categories.map((c) => c.id),
    };
  } finally {
    await guard.dispose();
  }
}

run().then(
  (result) => {
    if (out) out.textContent = JSON.stringify(result);
    document.body.dataset.state = 'done';
  },
  (error: unknown) => {
    if (out) out.textContent = `${isGuardError(error) ? error.code : 'error'}: ${String(error)}`;
    document.body.dataset.state = 'error';
  },
);
