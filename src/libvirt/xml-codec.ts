/**
 * The only module that touches an XML library. Models in src/libvirt build and
 * read XmlNode trees; this codec does all escaping in both directions.
 */
import xml2js from 'xml2js';
import { UsageError } from '../errors.js';

export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Text content (for leaf elements). */
  text?: string;
}

type AttrValue = string | number | boolean | undefined | null;

/** Builds an element; undefined/null attributes and children are dropped. */
export function el(
  tag: string,
  attrs: Record<string, AttrValue> = {},
  ...children: Array<XmlNode | string | number | undefined | null | false | Array<XmlNode | undefined | null | false>>
): XmlNode {
  const node: XmlNode = { tag, attrs: {}, children: [] };
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.attrs[k] = String(v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    if (typeof c === 'string' || typeof c === 'number') node.text = String(c);
    else node.children.push(c);
  }
  return node;
}

// XML 1.0 forbids most control characters even when escaped.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function checkText(value: string, where: string): void {
  if (XML_FORBIDDEN.test(value)) {
    throw new UsageError(`invalid character in ${where}: control characters cannot be stored in libvirt XML`, 'remove control characters from the value');
  }
}

// Names come from kvmctl's models or from parsed XML, never from users; a bad one is a bug, not input.
const XML_NAME = /^[A-Za-z_][\w.:-]*$/;

function checkName(name: string): void {
  if (!XML_NAME.test(name)) throw new Error(`not an XML name: ${JSON.stringify(name)}`);
}

// The escapes xml2js's builder (xmlbuilder) applies, kept so that output is byte-for-byte what it was.
function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function escapeAttr(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

/**
 * Writes children in the order of node.children. xml2js's builder takes an object
 * keyed by tag, which regroups siblings (<disk/><controller/><disk/> came back as
 * disk, disk, controller); libvirt's schemas interleave siblings, and XML read from
 * libvirt and written back must keep its order. Layout: two-space indent, one element
 * per line, a leaf's text inline, empty elements self-closed.
 */
function writeNode(node: XmlNode, depth: number, lines: string[]): void {
  checkName(node.tag);
  for (const [k, v] of Object.entries(node.attrs)) {
    checkName(k);
    checkText(v, `attribute ${node.tag}/@${k}`);
  }
  if (node.text !== undefined) checkText(node.text, `element <${node.tag}>`);
  const pad = '  '.repeat(depth);
  const open = `${pad}<${node.tag}${Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
    .join('')}`;
  if (node.children.length === 0) {
    lines.push(node.text === undefined || node.text === '' ? `${open}/>` : `${open}>${escapeText(node.text)}</${node.tag}>`);
    return;
  }
  lines.push(`${open}>`);
  if (node.text !== undefined) lines.push(`${pad}  ${escapeText(node.text)}`);
  for (const c of node.children) writeNode(c, depth + 1, lines);
  lines.push(`${pad}</${node.tag}>`);
}

export function encodeXml(node: XmlNode): string {
  const lines: string[] = [];
  writeNode(node, 0, lines);
  return lines.join('\n') + '\n';
}

interface ParsedElement {
  '#name': string;
  $?: Record<string, string>;
  _?: string;
  $$?: ParsedElement[];
}

function fromParsed(e: ParsedElement): XmlNode {
  const node: XmlNode = { tag: e['#name'], attrs: { ...(e.$ ?? {}) }, children: (e.$$ ?? []).map(fromParsed) };
  if (e._ !== undefined) node.text = e._;
  return node;
}

/** A model's parser: the document decoded, then read by the model's fromNode (`parseDomainXml = xmlParser(domainFromNode)`). */
export function xmlParser<T>(fromNode: (root: XmlNode) => T): (xml: string) => Promise<T> {
  return async (xml) => fromNode(await decodeXml(xml));
}

/** Parses one XML document. Throws a plain Error on malformed input (a tool bug, not user input). */
export async function decodeXml(text: string): Promise<XmlNode> {
  const parsed = (await xml2js.parseStringPromise(text, {
    explicitChildren: true,
    preserveChildrenOrder: true,
    explicitRoot: true,
    explicitArray: true,
    charkey: '_',
    trim: true,
  })) as Record<string, ParsedElement>;
  const [rootName, root] = Object.entries(parsed)[0] ?? [];
  if (!rootName || !root) throw new Error('empty XML document');
  return fromParsed({ ...(root as ParsedElement), '#name': rootName });
}

// Readers used by the models.

export function child(node: XmlNode | undefined, tag: string): XmlNode | undefined {
  return node?.children.find((c) => c.tag === tag);
}

export function children(node: XmlNode | undefined, tag: string): XmlNode[] {
  return node ? node.children.filter((c) => c.tag === tag) : [];
}

/** Follows a path of tags, e.g. path(domain, 'devices', 'disk'). */
export function path(node: XmlNode | undefined, ...tags: string[]): XmlNode | undefined {
  let cur = node;
  for (const t of tags) cur = child(cur, t);
  return cur;
}

export function textOf(node: XmlNode | undefined): string | undefined {
  return node?.text;
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  return node?.attrs[name];
}
