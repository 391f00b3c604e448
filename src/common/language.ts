/**
 * Language detection: which language a text is in, and how sure we are.
 *
 * Three layers, each used where it is the right tool:
 * 1. Unicode script analysis decides whatever the script alone decides (kana means Japanese,
 *    Han alone means Chinese, Bengali script means Bengali or Assamese, Thai means Thai...).
 * 2. The eld library (Nito-ELD, byte n-grams, 60 languages) decides among the languages that
 *    share a script (Latin, Cyrillic, Arabic, Devanagari). It is the most accurate of the
 *    candidates we measured on its own languages; see `scripts/measure-language.ts`.
 * 3. franc (trigrams, the 187 languages with a million speakers or more) checks eld's answer.
 *    eld always names one of its 60 languages, also for a text in one it does not know
 *    (Swahili came out Yoruba, Indonesian Malay, Nepali Hindi, Kazakh Belarusian). Where franc
 *    clearly names a language outside eld's list, that is the answer; where it cannot tell
 *    that language from eld's, the answer is `und` (see {@link checkedByFranc}).
 *
 * Confidence rule (see {@link detectLanguage}): the product of three factors in 0..1, so any one
 * weak signal pulls it down:
 * - length: `min(1, evidence / 30)`, where evidence counts letters, a Han, kana or Hangul
 *   character as 3 (one of them carries about a short word). Under 15 letters (5 CJK
 *   characters) this factor alone keeps the confidence below 0.5.
 * - purity: `(share - 0.5) / 0.5`, clamped, where share is the dominant script's part of the
 *   evidence. A text whose dominant script has less than 3/4 of it is "mixed": below 0.5.
 * - certainty of the choice within the script: 1 when the script decides; from eld's score
 *   margin when eld decides (its n-gram scores are close for related languages); from franc's
 *   margin when franc decides.
 * `und` always has confidence 0.
 */

import { eld as sharedEld } from 'eld/extrasmall';
import { francAll } from 'franc';
import { iso6393To1 } from 'iso-639-3/iso6393-to-1.js';
import { InvalidInputError } from '../errors.js';
import type { LanguageInfo } from '../types.js';

// A private instance, so that settings another part of the page gives the shared one don't leak in.
const detector = sharedEld.newInstance();

/** Only the start is analysed: it bounds the main-thread cost, and eld reads 1000 chars anyway. */
const SAMPLE_CHARS = 4000;
/** URLs and e-mail addresses: Latin letters in any language's text, so not evidence of one. */
const NOT_PROSE = /\b(?:https?:\/\/|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+/giu;
/** Evidence (letters, CJK counting 3) at which the length factor reaches 1. */
const FULL_EVIDENCE = 30;
const CJK_WEIGHT = 3;

/** The scripts we count, by ISO 15924 code (JS regexes accept these as `sc=` values). */
const SCRIPTS = [
  'Latn', 'Cyrl', 'Arab', 'Deva', 'Beng', 'Hani', 'Hira', 'Kana', 'Hang', 'Grek', 'Hebr',
  'Thai', 'Geor', 'Armn', 'Ethi', 'Gujr', 'Guru', 'Knda', 'Mlym', 'Orya', 'Taml', 'Telu',
  'Laoo', 'Sinh', 'Khmr', 'Mymr', 'Tibt', 'Thaa',
] as const;
type Script = (typeof SCRIPTS)[number];

const SCRIPT_PATTERNS = new Map<Script, RegExp>(SCRIPTS.map((s) => [s, new RegExp(`\\p{sc=${s}}`, 'gu')]));
const CJK: ReadonlySet<string> = new Set(['Hani', 'Hira', 'Kana', 'Hang']);

/**
 * Scripts written by one language (for our purposes): the script is the answer. Hebrew
 * (Hebrew, Yiddish) and Ethiopic (Amharic, Tigrinya) are not here: see {@link chooseLanguage}.
 */
const LANGUAGE_OF_SCRIPT: Partial<Record<Script, string>> = {
  Hang: 'ko', Grek: 'el', Thai: 'th', Geor: 'ka', Armn: 'hy',
  Gujr: 'gu', Guru: 'pa', Knda: 'kn', Mlym: 'ml', Orya: 'or', Taml: 'ta', Telu: 'te',
  Laoo: 'lo', Sinh: 'si', Khmr: 'km', Mymr: 'my', Tibt: 'bo', Thaa: 'dv',
};

/** ৰ and ৱ are Assamese letters that Bengali does not use: one of them tells the two apart. */
const ASSAMESE_LETTERS = /[\u09F0\u09F1]/u;
/**
 * Tigrinya letters that Amharic does not use: the ቐ (qʰ) and ኸ (x) series. Tigrinya also writes
 * /a/ at the start of a word as ኣ, where Amharic writes አ: more ኣ than አ is Tigrinya too.
 */
const TIGRINYA_LETTERS = /[\u1250-\u125D\u12B8-\u12C5]/u;

/**
 * Frequent characters that differ between Simplified and Traditional Chinese, aligned pair by
 * pair. Only pairs where neither form is in normal use in the other script (so not 后/後,
 * 台/臺, 里/裡, 只/隻...), so that one hit is evidence.
 */
const SIMPLIFIED =
  '这个们说为国来时会对过么没还学经现问题与从开关长样头见点东车门马书话让认识应该实动业机电网爱钱给买卖杀药枪将无种觉间气听写难边错战军伤饭语请谁读词记许论设证试计师脑乐体亲妈儿岁号医术单图场区县报纸线红绿颜飞鸡鱼鸟龙页顺须预领总结级组细终织绝统续维视观规习乡贵资费质帮产广庆决农办务劳势华协历压厂厅参双变吗员响团园围坏块坚处备复奖妇孙宝宁宪寻导层岛币带庄库异弹归当录怀态恶惊戏扑执扩扫扬护担择挂换据损摄敌数断旧显晓杂权条极构标树桥检欢欧残汉汤沟泪济浅测满灭灯灵烟热状独狱猪献环画疗盖监盘确礼祸离积称稳穷竞笔节简类粮紧约纪纯纳练绍络绩继罗罚职联脸艺获营虽补装览议讯讲访评诉译诗详误调谈谢贝负责败货购贸赛赶践轨转轮软轻载较辆达运进远违连迟选递遗邮释针钢铁银锁键闭闻阅队阳阴际陆险随隐雾静韩项顶顾频风饮馆验骗鲜齐赌贼盗窃诈骂袭恋梦楼猫义众锅烧够虑亚兴养卫圣声张刘则刚创剧庙废弃忆忧扰抢挤挥摆杨毕洁涨湾灾烂烦牵犹疯盐矿码础税签纠纷编缓缘聪肤胶苏荣蓝虚讨训诚询课谋谓谨财贫贷贺赏赔赞赢踪输辑邻酱钓铺链销锋镜闹阵阶韦顽颗饱饿驱驶骑鸭麦齿龄龟';
const TRADITIONAL =
  '這個們說為國來時會對過麼沒還學經現問題與從開關長樣頭見點東車門馬書話讓認識應該實動業機電網愛錢給買賣殺藥槍將無種覺間氣聽寫難邊錯戰軍傷飯語請誰讀詞記許論設證試計師腦樂體親媽兒歲號醫術單圖場區縣報紙線紅綠顏飛雞魚鳥龍頁順須預領總結級組細終織絕統續維視觀規習鄉貴資費質幫產廣慶決農辦務勞勢華協歷壓廠廳參雙變嗎員響團園圍壞塊堅處備復獎婦孫寶寧憲尋導層島幣帶莊庫異彈歸當錄懷態惡驚戲撲執擴掃揚護擔擇掛換據損攝敵數斷舊顯曉雜權條極構標樹橋檢歡歐殘漢湯溝淚濟淺測滿滅燈靈煙熱狀獨獄豬獻環畫療蓋監盤確禮禍離積稱穩窮競筆節簡類糧緊約紀純納練紹絡績繼羅罰職聯臉藝獲營雖補裝覽議訊講訪評訴譯詩詳誤調談謝貝負責敗貨購貿賽趕踐軌轉輪軟輕載較輛達運進遠違連遲選遞遺郵釋針鋼鐵銀鎖鍵閉聞閱隊陽陰際陸險隨隱霧靜韓項頂顧頻風飲館驗騙鮮齊賭賊盜竊詐罵襲戀夢樓貓義眾鍋燒夠慮亞興養衛聖聲張劉則剛創劇廟廢棄憶憂擾搶擠揮擺楊畢潔漲灣災爛煩牽猶瘋鹽礦碼礎稅簽糾紛編緩緣聰膚膠蘇榮藍虛討訓誠詢課謀謂謹財貧貸賀賞賠贊贏蹤輸輯鄰醬釣鋪鏈銷鋒鏡鬧陣階韋頑顆飽餓驅駛騎鴨麥齒齡龜';
const SIMPLIFIED_SET: ReadonlySet<string> = new Set(SIMPLIFIED);
const TRADITIONAL_SET: ReadonlySet<string> = new Set(TRADITIONAL);

/** eld's relative lead of Marathi over Hindi below which we say Hindi: eld scores them almost alike. */
const MARATHI_MIN_LEAD = 0.004;

/** The `isReliable` ratio above which (and with a clear margin) eld is "sure": see {@link byEld}. */
const SURE_RATIO = 0.9;
/**
 * franc's lead over its next language (1 minus the next one's score) from which it names a
 * language. Wrong franc picks on the low-resource samples led by up to 0.15, right ones by
 * 0.03 to 0.6.
 */
const FRANC_MARGIN = 0.15;
/** How much lower than its top franc must score eld's language to overrule an unsure eld. */
const FRANC_REJECTS = 0.2;
/**
 * Devanagari languages franc is asked about (by its codes): see {@link devanagari}. Not
 * Bhojpuri, Magahi or Maithili: franc scores them within a few percent of Hindi on most Hindi.
 */
const DEVANAGARI_CANDIDATES = ['hin', 'mar', 'npi'];
/**
 * Words of Nepali that Hindi does not have (copula छ / छन्, पनि "also", धेरै "much", the -हरू
 * plural, -छु / -छन् verb endings...), and Hindi's commonest words, which Nepali does not use.
 * A Nepali word in a text without a Hindi one is Nepali: on the Hindi benchmark (4,533 texts) 3
 * have a Nepali word, none without a Hindi one.
 */
const NOT_IN_WORD = String.raw`(?![\p{L}\p{M}])`;
const WORD_START = String.raw`(?<![\p{L}\p{M}])`;
const NEPALI_WORDS = new RegExp(
  String.raw`${WORD_START}(?:छ|छन्|छु|छौं?|हुन्छ|पनि|धेरै|भोलि|मलाई|कसरी|भनेर|गर्नु?|तपाईं[\p{L}\p{M}]*|तिमी|हामी|[\p{L}\p{M}]+(?:हरू|हरु|्छु|्छन्|नुहोस्))${NOT_IN_WORD}`,
  'u',
);
const HINDI_WORDS = new RegExp(String.raw`${WORD_START}(?:है|हैं|में|नहीं|भी|था|थी|थे|और|रहा|रही|रहे|यह|वह)${NOT_IN_WORD}`, 'u');
/** franc's cost grows with the text (eld reads 1000 characters too): the start is enough. */
const FRANC_CHARS = 1000;
/** Scots: franc's Scots trigrams beat its English ones on plain English. */
const FRANC_IGNORED = ['sco'];

const ELD_LANGUAGES: ReadonlySet<string> = new Set(Object.values(detector.info().Languages as Record<string, string>));

/**
 * Languages eld does not know and names as one of its own, by eld's code: franc must tell them
 * apart (see {@link checkedByFranc}). Codes as {@link toCode} gives them.
 */
const CYRILLIC_OTHERS = ['kk', 'ky', 'tg', 'tt', 'mn', 'uz', 'tk', 'ba', 'koi', 'kbd'];
const RELATIVES: ReadonlyMap<string, readonly string[]> = new Map([
  ['ms', ['id', 'jv', 'su', 'min', 'ace', 'ban', 'bug', 'mad']],
  ['tl', ['ceb', 'hil', 'ilo', 'war', 'bcl', 'pam']],
  ['nl', ['af', 'nds']],
  ['ru', CYRILLIC_OTHERS],
  ['uk', CYRILLIC_OTHERS],
  ['be', CYRILLIC_OTHERS],
  ['bg', [...CYRILLIC_OTHERS, 'mk']],
  ['sr', [...CYRILLIC_OTHERS, 'mk']],
  ['fa', ['ps', 'ug']],
  ['ur', ['skr']],
  ['he', ['yi']],
]);

/**
 * eld's languages whose relatives it names as them so often that franc's agreement is not
 * enough: franc must also score the relatives clearly lower. Malay for Indonesian (franc's
 * own two top languages on both), the Cyrillic ones for Kazakh, Kyrgyz, Tajik, Mongolian.
 */
const UNCONFIRMED: ReadonlySet<string> = new Set(['ms', 'ru', 'uk', 'be', 'bg', 'sr']);

/**
 * franc names individual languages where ISO 639-1 has only their macrolanguage: Swahili is
 * `swh` in franc, `sw` (macrolanguage `swa`) for everyone else. Norwegian Bokmål is `no`, as eld says.
 */
const MEMBER_OF_MACROLANGUAGE: Readonly<Record<string, string>> = {
  swh: 'sw', zlm: 'ms', npi: 'ne', uzn: 'uz', azj: 'az', arb: 'ar', pes: 'fa', prs: 'fa', plt: 'mg',
  ekk: 'et', lvs: 'lv', als: 'sq', khk: 'mn', pbu: 'ps', ydd: 'yi', quz: 'qu', qug: 'qu', quy: 'qu',
  fuv: 'ff', fuf: 'ff', knc: 'kr', nob: 'no', zyb: 'za', ckb: 'ku', ayr: 'ay', kng: 'kg',
};

const UNDETERMINED: LanguageInfo = { code: 'und', script: 'Zyyy', confidence: 0 };

/**
 * Detects the language of a text, synchronously.
 *
 * Returns `und` / `Zyyy` / 0 for text without letters (empty, digits, punctuation, emoji).
 * Codes are ISO 639-1 (`en`, `fr`, `hi`...), with `zh-cn` / `zh-tw` for Simplified /
 * Traditional Chinese (`zh` when the text has no character that tells them apart). The
 * confidence is low for short or mixed-script text (see the rule at the top of this file):
 * read it as "how much to trust `code`", not as a probability.
 * @example detectLanguage('Je voudrais un café, s’il vous plaît.') // { code: 'fr', script: 'Latn', confidence: 0.93 }
 * @example detectLanguage('merci') // { code: 'it', script: 'Latn', confidence: 0.08 }: a (wrong) guess, and says so
 * @example detectLanguage('ok') // { code: 'und', script: 'Latn', confidence: 0 }: eld found nothing
 */
export function detectLanguage(text: string): LanguageInfo {
  if (typeof text !== 'string') {
    throw new InvalidInputError('detectLanguage expects a string.', { details: { field: 'text', type: typeof text } });
  }
  const sample = text.slice(0, SAMPLE_CHARS).replace(NOT_PROSE, ' ');
  const evidence = countEvidence(sample);
  let total = 0;
  for (const value of evidence.values()) total += value;
  if (total === 0) return UNDETERMINED;

  const [script, weight] = dominant(evidence);
  const guess = chooseLanguage(script, sample);
  if (guess.code === 'und') return { code: 'und', script, confidence: 0 };

  const length = Math.min(1, total / FULL_EVIDENCE);
  const purity = clamp01((weight / total - 0.5) / 0.5);
  const confidence = Math.round(length * purity * guess.certainty * 100) / 100;
  return { code: guess.code, script, confidence };
}

/** Evidence per script: letters counted by script, CJK weighted; Han and kana merged as `Jpan`. */
function countEvidence(sample: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [script, pattern] of SCRIPT_PATTERNS) {
    const n = sample.match(pattern)?.length ?? 0;
    if (n > 0) counts.set(script, n * (CJK.has(script) ? CJK_WEIGHT : 1));
  }
  // Japanese mixes Han and kana in every sentence; they are one writing system, not a mix.
  // A stray kana in Chinese text (under 5% of the CJK) does not make it Japanese; kana without
  // Han always does, so `Hira` / `Kana` never come out as the dominant script.
  const kana = (counts.get('Hira') ?? 0) + (counts.get('Kana') ?? 0);
  const han = counts.get('Hani') ?? 0;
  if (kana > 0 && kana >= 0.05 * (kana + han)) {
    for (const s of ['Hira', 'Kana', 'Hani']) counts.delete(s);
    counts.set('Jpan', kana + han);
  }
  return counts;
}

function dominant(evidence: Map<string, number>): [string, number] {
  let best: [string, number] = ['Zyyy', 0];
  for (const entry of evidence) if (entry[1] > best[1]) best = entry;
  return best;
}

interface Guess {
  code: string;
  certainty: number;
}

const UND: Guess = { code: 'und', certainty: 0 };

function chooseLanguage(script: string, sample: string): Guess {
  switch (script) {
    case 'Jpan':
      return { code: 'ja', certainty: 1 };
    case 'Hani':
      return { code: chineseVariant(sample), certainty: 1 };
    case 'Beng':
      return { code: ASSAMESE_LETTERS.test(sample) ? 'as' : 'bn', certainty: 1 };
    case 'Deva':
      return devanagari(onlyScript(sample, 'Deva'));
    case 'Ethi':
      return ethiopic(onlyScript(sample, 'Ethi'));
    case 'Hebr': {
      // eld's Hebrew is the only Hebrew-script language it knows; franc knows Yiddish too.
      const text = onlyScript(sample, 'Hebr');
      return checkedByFranc({ code: 'he', certainty: 1, sure: false }, francRanking(text));
    }
    case 'Latn':
    case 'Cyrl':
    case 'Arab': {
      const text = onlyScript(sample, script);
      return checkedByFranc(byEld(text), francRanking(text));
    }
    default:
      return { code: LANGUAGE_OF_SCRIPT[script as Script] ?? 'und', certainty: 1 };
  }
}

function chineseVariant(sample: string): string {
  let simplified = 0;
  let traditional = 0;
  for (const char of sample) {
    if (SIMPLIFIED_SET.has(char)) simplified++;
    else if (TRADITIONAL_SET.has(char)) traditional++;
  }
  if (simplified > traditional) return 'zh-cn';
  if (traditional > simplified) return 'zh-tw';
  return 'zh';
}

interface EldGuess extends Guess {
  /** eld's own "reliable" at a strict threshold, and a clear margin: eld is not guessing. */
  sure: boolean;
}

/**
 * eld's pick, with a certainty from its score margin. eld squashes its n-gram score `x` as
 * `x / (x + 25)`; the margin is taken on `x` (as `s / (1 - s)`), where it is comparable across
 * scripts. On the benchmark, French picks with a margin under 0.2 are wrong one time in four,
 * over 0.4 almost never; close languages (ru / uk / bg) have margins around 0.1 when right.
 */
function byEld(text: string): EldGuess {
  const result = detector.detect(text);
  if (result.language === '') return { ...UND, sure: false };
  const raw = Object.values(result.getScores())
    .map((s) => s / (1 - s))
    .sort((a, b) => b - a);
  const [first = 0, second = 0] = raw;
  const margin = first > 0 && Number.isFinite(first) ? (first - second) / first : 0;
  const certainty = Math.min(1, 0.5 + 2 * margin, result.isReliable() ? 1 : 0.5);
  // isReliable(r): the top score is at least r times eld's average score for a right answer
  // (r = 0.75 by default). eld 2.1.0 takes r at run time; its typings leave it out.
  const isReliable = result.isReliable as (thresholdRatio?: number) => boolean;
  return { code: result.language, certainty, sure: certainty === 1 && isReliable(SURE_RATIO) };
}

/**
 * Hindi unless eld prefers Marathi clearly. eld's Hindi and Marathi scores differ by under 1%
 * on nearly all Devanagari text, Hindi included; Hindi has six times the speakers, so near
 * ties go to it (0.4% was the lead of Marathi on our Marathi sentences, and on 0.1% of the
 * Hindi benchmark). eld knows no Nepali. franc does, but its Nepali trigrams come within 15%
 * of its Hindi ones on a third of the Hindi benchmark, so it only names Nepali where it is
 * clear and the text has none of Hindi's commonest words; Nepali's own words name it too
 * (see {@link NEPALI_WORDS}).
 */
function devanagari(text: string): Guess {
  const scores = detector.detect(text).getScores();
  const hi = scores['hi'] ?? 0;
  const mr = scores['mr'] ?? 0;
  const lead = hi > 0 ? (mr - hi) / hi : mr > 0 ? 1 : 0;
  const guess: Guess =
    lead > MARATHI_MIN_LEAD
      ? { code: 'mr', certainty: Math.min(0.9, 0.5 + 25 * lead) }
      : { code: 'hi', certainty: lead > 0 ? 0.75 : 0.9 };
  if (HINDI_WORDS.test(text)) return guess;
  if (NEPALI_WORDS.test(text)) return { code: 'ne', certainty: 0.9 };
  const [top, next] = francRanking(text, DEVANAGARI_CANDIDATES);
  if (top?.code !== 'ne') return guess;
  const margin = 1 - (next?.score ?? 0);
  return margin >= FRANC_MARGIN ? { code: 'ne', certainty: Math.min(0.9, margin / (2 * FRANC_MARGIN)) } : UND;
}

/**
 * Amharic or Tigrinya. eld knows only Amharic, and franc's Tigrinya and Amharic trigrams
 * (from one short text each) confuse the two, so Tigrinya's own letters decide; without them
 * franc may only say "not sure": `und` where it says Tigrinya.
 */
function ethiopic(text: string): Guess {
  const fullA = text.match(/\u12A3/gu)?.length ?? 0; // ኣ
  const plainA = text.match(/\u12A0/gu)?.length ?? 0; // አ
  if (TIGRINYA_LETTERS.test(text) || fullA > plainA) return { code: 'ti', certainty: 0.9 };
  return francRanking(text)[0]?.code === 'ti' ? UND : { code: 'am', certainty: 0.9 };
}

/** franc's ranking: our codes (see {@link toCode}), best first, each code once, top score 1. */
function francRanking(text: string, only: string[] = []): { code: string; score: number }[] {
  const seen = new Set<string>();
  const ranking: { code: string; score: number }[] = [];
  for (const [iso6393, score] of francAll(text.slice(0, FRANC_CHARS), { ignore: FRANC_IGNORED, only })) {
    const code = toCode(iso6393);
    if (code === 'und' || seen.has(code)) continue;
    seen.add(code);
    ranking.push({ code, score });
  }
  return ranking;
}

/**
 * eld's guess, checked by franc's ranking. Measured on the benchmark and on
 * `test/fixtures/low-resource-languages.jsonl`:
 * - franc names eld's language or another of eld's: eld's guess (eld is the more accurate of
 *   the two on its own languages), unless eld's language has close relatives that eld does not
 *   know (Malay: Indonesian, Javanese...; see {@link RELATIVES}) and franc scores one of them
 *   within {@link FRANC_MARGIN} of its top: `und`.
 * - franc names a language eld does not know: franc's, where it leads the next by at least
 *   {@link FRANC_MARGIN} and it is either a relative of eld's guess or eld was not sure and
 *   franc scores eld's guess clearly lower; eld's guess where eld was sure (franc's trigrams
 *   take short English for Haitian or Sardinian, eld does not); else `und`.
 */
function checkedByFranc(eldGuess: EldGuess, ranking: { code: string; score: number }[]): Guess {
  const [top, ...rest] = ranking;
  const guess: Guess = { code: eldGuess.code, certainty: eldGuess.certainty };
  // franc says `und` below 10 characters: eld alone (the length factor keeps it low anyway).
  if (top === undefined || eldGuess.code === 'und') return guess;
  const relatives = RELATIVES.get(eldGuess.code);
  if (top.code === eldGuess.code || ELD_LANGUAGES.has(top.code)) {
    if (!UNCONFIRMED.has(eldGuess.code)) return guess;
    const rival = ranking.find((r) => relatives?.includes(r.code))?.score ?? 0;
    return 1 - rival >= FRANC_MARGIN ? guess : UND;
  }
  const margin = 1 - (rest[0]?.score ?? 0);
  const francGuess = { code: top.code, certainty: Math.min(1, margin / (2 * FRANC_MARGIN)) };
  if (relatives?.includes(top.code)) return margin >= FRANC_MARGIN ? francGuess : UND;
  if (eldGuess.sure) return guess;
  const eldScore = rest.find((r) => r.code === eldGuess.code)?.score ?? 0;
  return margin >= FRANC_MARGIN && eldScore < 1 - FRANC_REJECTS ? francGuess : UND;
}

/** franc's 639-3 code as ours: ISO 639-1 where there is one (for a macrolanguage's member too). */
function toCode(iso6393: string): string {
  return MEMBER_OF_MACROLANGUAGE[iso6393] ?? (iso6393To1 as Record<string, string | undefined>)[iso6393] ?? iso6393;
}

const ONLY_SCRIPT_PATTERNS = new Map<string, RegExp>();

/** The text with everything but the script's letters and combining marks turned to spaces. */
function onlyScript(sample: string, script: string): string {
  let pattern = ONLY_SCRIPT_PATTERNS.get(script);
  if (pattern === undefined) {
    pattern = new RegExp(`[^\\p{sc=${script}}\\p{sc=Zinh}]+`, 'gu');
    ONLY_SCRIPT_PATTERNS.set(script, pattern);
  }
  return sample.replace(pattern, ' ');
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
