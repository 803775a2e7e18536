import { WgsegError } from '../../core/errors';

/**
 * PaddleOCR's character list: one character per line of the dictionary file, then a space (the
 * rec model's last class, `use_space_char`). Class 0 is the CTC blank; class i >= 1 is chars[i-1].
 */
export function parseDictionary(text: string): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new WgsegError('BAD_INPUT', 'ocr: the dictionary is empty');
  return [...lines, ' '];
}

export interface Decoded {
  text: string;
  /** mean probability of the emitted characters (0 for an empty line) */
  confidence: number;
}

/**
 * CTC greedy decoding of one line from per-step (argmax class, its probability): drop blanks
 * (class 0), collapse repeats of the same class in consecutive steps, map class i to chars[i-1].
 */
export function ctcGreedy(classes: ArrayLike<number>, probs: ArrayLike<number>, chars: string[]): Decoded {
  let text = '',
    sum = 0,
    n = 0;
  for (let t = 0; t < classes.length; t++) {
    const c = classes[t];
    if (c === 0 || (t > 0 && classes[t - 1] === c)) continue;
    text += chars[c - 1] ?? '';
    sum += probs[t];
    n++;
  }
  return { text, confidence: n ? sum / n : 0 };
}
