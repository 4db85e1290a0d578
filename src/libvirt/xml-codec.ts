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

type Xml2jsObject = { $?: Record<string, string>; _?: string; [child: string]: unknown };

function toXml2js(node: XmlNode): Xml2jsObject | string {
  for (const [k, v] of Object.entries(node.attrs)) checkText(v, `attribute ${node.tag}/@${k}`);
  if (node.text !== undefined) checkText(node.text, `element <${node.tag}>`);
  const hasAttrs = Object.keys(node.attrs).length > 0;
  if (node.children.length === 0 && !hasAttrs) return node.text ?? '';
  const out: Xml2jsObject = {};
  if (hasAttrs) out.$ = { ...node.attrs };
  if (node.text !== undefined) out._ = node.text;
  // Children are grouped by tag in first-appearance order; libvirt's schemas interleave siblings.
  for (const child of node.children) {
    const list = (out[child.tag] as unknown[] | undefined) ?? [];
    list.push(toXml2js(child));
    out[child.tag] = list;
  }
  return out;
}

export function encodeXml(node: XmlNode): string {
  const builder = new xml2js.Builder({
    rootName: node.tag,
    headless: true,
    renderOpts: { pretty: true, indent: '  ', newline: '\n' },
  });
  return builder.buildObject(toXml2js(node)) + '\n';
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
