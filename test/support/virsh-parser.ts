import { expect } from 'vitest';

/**
 * virsh's command-string parser (vshCommandStringGetArg): words split on
 * blanks, commands on ';' or newline outside quotes; '…' is literal, "…" and a
 * bare backslash escape one character.
 */
export function virshCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length) word = (word ?? '') + line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === ';' || c === '\n') {
      endWord();
      if (words.length > 0) commands.push(words);
      words = [];
    } else {
      word = (word ?? '') + c;
    }
  }
  expect(quote, `unterminated quote in ${line}`).toBeUndefined();
  endWord();
  if (words.length > 0) commands.push(words);
  return commands;
}
