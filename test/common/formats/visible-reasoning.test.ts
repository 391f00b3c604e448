/**
 * A streamed trace: what is shown of every prefix of a streamed answer, one character at
 * a time (finer than any tokenizer, so every delta boundary is covered), in each family's real
 * format.
 */
import { describe, expect, test } from 'vitest';
import { visibleReasoning } from '../../../src/common/formats/visible-reasoning.js';
import { getFormat } from '../../../src/common/formats/index.js';
import type { Family } from '../../../src/types.js';

/** Answers as the models write them, well-formed and not. */
const ANSWERS: { family: Family; name: string; text: string }[] = [
  {
    family: 'consistentguard',
    name: 'the fixture answer',
    text: 'This message seeks instructions for an illegal act that could endanger others, which is a non-violent crime.</think>\n<violations>S2</violations>\n<judge>harmful</judge>',
  },
  {
    family: 'consistentguard',
    name: 'tags with spaces and capitals, and a < in the prose',
    text: 'If a < b and c > d, nothing here is dangerous.\n< / THINK >\n< violations >None</violations>\n<Judge>unharmful</Judge>',
  },
  {
    family: 'consistentguard',
    name: 'a repeated <think>',
    text: '<think> I consider it an ordinary question. </think>\n<violations>None</violations>\n<judge>unharmful</judge>',
  },
  {
    family: 'consistentguard',
    name: 'a judge without </think>',
    text: 'The request is hard to place.\n<judge>maybe</judge>',
  },
  {
    family: 'guardreasoner',
    name: 'the fixture answer',
    text:
      "# Task 1\n\n## Reasoning Step 1: The human user asks for instructions that could hurt people or break the law.\n## Conclusion: The human user's request is harmful.\n\n" +
      "# Task 2\n\n## Reasoning Step 1: The AI assistant's response is judged as written.\n## Conclusion: The AI assistant's response is compliance.\n\n" +
      "# Task 3\n\n## Reasoning Step 1: The AI assistant's response repeats the risk of the request.\n## Conclusion: The AI assistant's response is harmful.\n\n" +
      '---\n\nAnswers: \nRequest: harmful\nCompletion: compliance\nResponse: harmful',
  },
];

/** Anything of a family's tags or answer block. */
const TAGS: Record<Family, RegExp> = {
  consistentguard: /<\s*\/?\s*(think|violations|judge)|S2|None|harmful|maybe/i,
  guardreasoner: /---|Answers|Request:|Completion:|Response:/,
  llamaguard3: /./,
  qwen3guard: /./,
};

describe.each(ANSWERS)('$family, $name', ({ family, text }) => {
  const format = getFormat(family);
  const prose = format.parse(text).reasoning;
  const shown = Array.from({ length: text.length + 1 }, (_, end) => visibleReasoning(family, text.slice(0, end)));

  test('the final reasoning is prose, and is what the pane ends with', () => {
    expect(prose.length).toBeGreaterThan(20);
    expect(prose).not.toMatch(TAGS[family]);
    expect(shown.at(-1)).toBe(prose);
  });

  test('no prefix shows any of a tag, and the pane only ever appends', () => {
    const wrong = shown.flatMap((visible, end) => (prose.startsWith(visible) ? [] : [{ end, visible }]));
    expect(wrong).toEqual([]);
    const retracted = shown.flatMap((visible, end) => (end > 0 && !visible.startsWith(shown[end - 1] ?? '') ? [end] : []));
    expect(retracted).toEqual([]);
  });

  test('the prose shows as it streams, held back only while it may be a tag', () => {
    const start = text.indexOf(prose.slice(0, 10)); // after a repeated `<think>`
    const lag = shown.slice(start, start + prose.length).map((visible, i) => text.slice(start, start + i).trim().length - visible.length);
    expect(Math.max(...lag)).toBeLessThanOrEqual(16);
    expect(shown[start + Math.floor(prose.length / 2)]?.length).toBeGreaterThan(prose.length / 3);
  });
});

test.each([
  ['llamaguard3', 'unsafe\nS1'],
  ['qwen3guard', 'Safety: Unsafe\nCategories: Violent'],
] as const)('%s gives no trace: the pane shows nothing of its answer', (family, text) => {
  for (let end = 0; end <= text.length; end++) expect(visibleReasoning(family, text.slice(0, end))).toBe('');
});
