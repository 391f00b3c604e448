import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectLanguage } from '../../src/common/language.js';

/**
 * 20 unharmful rows per language from the OpenAI moderation benchmark (MIT), the same 20 ids in
 * every language. Made once from the data dir; ToxicChat (CC-BY-NC) is deliberately not used.
 */
const samples = readFileSync(new URL('../fixtures/language-samples.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { id: string; lang: string; text: string });

describe('detectLanguage on benchmark samples', () => {
  const languages = [...new Set(samples.map((s) => s.lang))];

  it('has 20 samples for each of the six languages', () => {
    expect(languages.sort()).toEqual(['bn', 'en', 'fr', 'hi', 'ja', 'zh-cn']);
    for (const lang of languages) expect(samples.filter((s) => s.lang === lang)).toHaveLength(20);
  });

  it.each(languages)('recognizes at least 95 percent of %s', (lang) => {
    const rows = samples.filter((s) => s.lang === lang);
    const wrong = rows.filter((s) => detectLanguage(s.text).code !== lang).map((s) => s.id);
    expect((rows.length - wrong.length) / rows.length, `wrong: ${wrong.join(', ')}`).toBeGreaterThanOrEqual(0.95);
  });
});

/**
 * Four everyday sentences in each of 34 languages outside the six, most of them low-resource,
 * written for this test by the lingoguard developers (not taken from any corpus: franc's own
 * trigrams come from the UDHR, so its text would flatter it).
 */
const lowResource = readFileSync(new URL('../fixtures/low-resource-languages.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { lang: string; text: string });

describe('detectLanguage on low-resource languages', () => {
  const languages = [...new Set(lowResource.map((s) => s.lang))];

  it('has four sentences in each of 34 languages', () => {
    expect(languages).toHaveLength(34);
    for (const lang of languages) expect(lowResource.filter((s) => s.lang === lang)).toHaveLength(4);
  });

  // The issue: eld names one of its 60 languages for any text, at 0.5 and more.
  it.each(languages)('gives %s its code, or und at confidence 0: never a wrong code', (lang) => {
    for (const { text } of lowResource.filter((s) => s.lang === lang)) {
      const info = detectLanguage(text);
      if (info.code !== lang) expect(info, text).toMatchObject({ code: 'und', confidence: 0 });
    }
  });

  it('names most of them: at least 60% of the sentences get their code', () => {
    const right = lowResource.filter((s) => detectLanguage(s.text).code === s.lang).length;
    expect(right / lowResource.length).toBeGreaterThanOrEqual(0.6);
  });

  it.each([
    ['Swahili', 'Watoto wanacheza mpira uwanjani wakati mvua inanyesha kidogo.', 'sw'],
    ['Hausa', 'Yara suna wasan ƙwallo a filin makaranta yayin da ake ruwan sama.', 'ha'],
    ['Somali', 'Fadlan ii sheeg sida loo karsado bariis macaan oo hilib leh.', 'so'],
    ['Nepali', 'पानी परिरहेको भए पनि केटाकेटीहरू मैदानमा फुटबल खेलिरहेका छन्।', 'ne'],
    ['Tigrinya', 'ቆልዑ ዝናብ እናዘነበ ኣብ ሜዳ ኩዕሶ ይጻወቱ ኣለዉ።', 'ti'],
    ['Yiddish', 'די קינדער שפּילן פֿוסבאָל אין הויף כאָטש עס רעגנט.', 'yi'],
    ['Kazakh', 'Мен ертең таңертең көкөніс пен балық сатып алу үшін базарға барғым келеді.', 'kk'],
  ])('names %s, which eld does not know', (_name, text, code) => {
    const info = detectLanguage(text);
    expect(info.code).toBe(code);
    expect(info.confidence).toBeGreaterThanOrEqual(0.5);
  });
});

describe('detectLanguage by script', () => {
  it.each([
    ['Latin, English', 'The weather is lovely today, so we are going for a long walk in the park.', 'en', 'Latn'],
    ['Latin, French', "Il fait très beau aujourd'hui, alors nous allons faire une longue promenade.", 'fr', 'Latn'],
    ['Simplified Chinese', '今天天气很好，我们一起去公园散步吧，这个周末你有时间吗？', 'zh-cn', 'Hani'],
    ['Traditional Chinese', '今天天氣很好，我們一起去公園散步吧，這個週末你有時間嗎？', 'zh-tw', 'Hani'],
    ['Japanese (Han and kana)', '今日はとても良い天気なので、公園を散歩しましょう。', 'ja', 'Jpan'],
    ['Japanese (kana only)', 'こんにちは、おげんきですか。きょうはいいてんきですね。', 'ja', 'Jpan'],
    ['Korean', '오늘은 날씨가 정말 좋아서 공원에 산책하러 갈 거예요.', 'ko', 'Hang'],
    ['Bengali', 'আজ আবহাওয়া খুব ভালো, তাই আমরা পার্কে হাঁটতে যাচ্ছি।', 'bn', 'Beng'],
    ['Assamese (has ৰ)', 'আজি বতৰ বৰ ভাল, সেয়ে আমি পাৰ্কলৈ খোজ কাঢ়িবলৈ যাম।', 'as', 'Beng'],
    ['Hindi', 'आज मौसम बहुत अच्छा है, इसलिए हम पार्क में टहलने जा रहे हैं।', 'hi', 'Deva'],
    ['Marathi', 'महाराष्ट्र हे भारतातील एक राज्य आहे आणि मुंबई ही त्याची राजधानी आहे.', 'mr', 'Deva'],
    ['Russian', 'Сегодня прекрасная погода, поэтому мы идём гулять в парк.', 'ru', 'Cyrl'],
    ['Arabic', 'الطقس جميل جدا اليوم، لذلك سنذهب في نزهة طويلة في الحديقة.', 'ar', 'Arab'],
    ['Greek', 'Ο καιρός είναι υπέροχος σήμερα, γι’ αυτό θα πάμε βόλτα στο πάρκο.', 'el', 'Grek'],
    ['Thai', 'วันนี้อากาศดีมาก เราจึงจะไปเดินเล่นที่สวนสาธารณะกัน', 'th', 'Thai'],
  ])('%s', (_name, text, code, script) => {
    const info = detectLanguage(text);
    expect(info).toMatchObject({ code, script });
    expect(info.confidence).toBeGreaterThanOrEqual(0.5);
  });
});

describe('detectLanguage confidence', () => {
  it.each([
    ['empty', ''],
    ['whitespace', ' \n\t '],
    ['digits', '1234567890 42 3.14'],
    ['punctuation', '?!... ---'],
    ['emoji', '😀😂👍🏽👨‍👩‍👧 🎉'],
  ])('is und / Zyyy / 0 for text without letters: %s', (_name, text) => {
    expect(detectLanguage(text)).toEqual({ code: 'und', script: 'Zyyy', confidence: 0 });
  });

  it.each([
    ['one word', 'hello'],
    ['two words', 'merci beaucoup'],
    ['a short question', 'how are you?'],
    ['two Han characters', '你好'],
    ['three kana', 'どうも'],
    ['one Bengali word', 'ধন্যবাদ'],
    ['one Hindi word', 'नमस्ते'],
    ['a word with emoji', 'lol 😂😂😂'],
  ])('is below 0.5 for very short text: %s', (_name, text) => {
    expect(detectLanguage(text).confidence).toBeLessThan(0.5);
  });

  it.each([
    ['English and Chinese', 'Please translate this sentence 请把这句话翻译成中文'],
    ['Hindi and English', 'मुझे यह बताओ please tell me how this works'],
    ['Russian and English', 'Привет друг, how are you doing today my friend'],
    ['Chinese with English names', 'Fabrice Gabarrot 是谁？'],
  ])('is below 0.5 for mixed-script text: %s', (_name, text) => {
    expect(detectLanguage(text).confidence).toBeLessThan(0.5);
  });

  it('ignores URLs and e-mail addresses as evidence', () => {
    const info = detectLanguage('https://example.com/learn/getting-started/index.html পৃষ্ঠাটি দেখুন এবং আমাকে জানান');
    expect(info.code).toBe('bn');
  });

  it('is in 0..1 and rounded to two decimals', () => {
    for (const { text } of samples) {
      const { confidence } = detectLanguage(text);
      expect(confidence).toBeGreaterThanOrEqual(0);
      expect(confidence).toBeLessThanOrEqual(1);
      expect(Math.round(confidence * 100) / 100).toBe(confidence);
    }
  });

  it('rejects a non-string', () => {
    expect(() => detectLanguage(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});
