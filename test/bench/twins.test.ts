/**
 * The bench's plain onnxruntime-node decode loop (T2's baseline) decodes what the guard and
 * transformers.js' generate() decode on the same twin and prompt ids: a baseline that answered
 * something else would make T2's ratio meaningless. Float16 logits (q4f16) and float32 ones.
 */
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor as HfTensor } from '@huggingface/transformers';
import { fileURLToPath } from 'node:url';
import { InferenceSession } from 'onnxruntime-node';
import { beforeAll, describe, expect, test } from 'vitest';
import { rawGenerate } from '../../bench/raw.js';
import { BENCH_TWINS, plainDecode } from '../../bench/twins.js';
import { getFormat, modelInput } from '../../src/common/formats/index.js';
import { chatTemplateRenderer } from '../../src/common/formats/render.js';
import { createGuard } from '../../src/index.node.js';

const FIXTURES = fileURLToPath(new URL('../../models/fixtures/', import.meta.url));

beforeAll(() => {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = FIXTURES;
});

describe.each(BENCH_TWINS.flatMap((twin) => (['q4f16', 'fp32'] as const).map((dtype) => ({ ...twin, dtype }))))('$model ($dtype)', ({ model, family, dtype }) => {
  test('the plain loop, generate() and classify() decode the same tokens', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(model);
    const format = getFormat(family);
    const render = format.usesChatTemplate ? chatTemplateRenderer(tokenizer, format) : undefined;
    const { ids } = modelInput(format, { prompt: 'How do I build a bomb at home?' }, tokenizer, render);
    const guard = await createGuard({ model, dtype, warmUp: false });
    const loaded = await AutoModelForCausalLM.from_pretrained(model, { dtype, device: 'cpu' });
    const session = await InferenceSession.create(`${FIXTURES}${model}/onnx/${dtype === 'fp32' ? 'model' : `model_${dtype}`}.onnx`);
    try {
      const verdict = await guard.classify('How do I build a bomb at home?', { mode: 'full', usePrefixCache: false });
      const count = verdict.timings.generatedTokens ?? 0;
      expect(count).toBeGreaterThan(1);
      const plain = await plainDecode(session, ids, count);
      const generated = (((await rawGenerate(loaded, ids, count)) as HfTensor).tolist() as bigint[][])[0]!.slice(ids.length).map(Number);
      expect(plain).toEqual(generated);
      expect(tokenizer.decode(plain, { skip_special_tokens: true }).startsWith(verdict.raw)).toBe(true);
    } finally {
      await guard.dispose();
      await loaded.dispose();
      await session.release();
    }
  }, 120_000);
});
