/**
 * The only way the report makes HTML and SVG: `h(tag, attributes, ...children)`
 * escapes every string it is given, so text from the warehouse (task logs,
 * names: anything the API sent) can only ever become text. It refuses to
 * build what could run code or load something (script, event handlers,
 * external URLs); `trusted` is for the page's own constant CSS only.
 */

declare const MARKUP: unique symbol;

/** HTML known to be safe: made by `h`, `text` or `trusted`. */
export interface Markup {
  readonly [MARKUP]: true;
  readonly html: string;
}

export type Child = Markup | string | number | null | undefined | false | readonly Child[];
export type AttributeValue = string | number | boolean | null | undefined;
export type Attributes = Readonly<Record<string, AttributeValue>>;

const VOID = new Set(['meta', 'br', 'hr', 'col', 'wbr']);
/** SVG leaves written as `<rect ... />` to keep large pages small. */
const SVG_LEAVES = new Set(['rect', 'line', 'circle', 'path', 'polygon', 'polyline']);
const REFUSED_TAGS = new Set(['script', 'iframe', 'object', 'embed', 'link', 'img', 'image', 'use', 'foreignobject', 'base', 'form']);
const NAME = /^[a-z][a-z0-9-]*$/i;
const ATTRIBUTE = /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/i;
/** Attributes that may point elsewhere: only in-page fragments are allowed. */
const URL_ATTRIBUTES = new Set(['href', 'xlink:href', 'src', 'action', 'formaction', 'srcset', 'poster', 'data']);

function markup(html: string): Markup {
  return { html } as Markup;
}

/**
 * Control characters other than tab and newline, and UTF-16 halves without
 * their pair, are not text: they become U+FFFD.
 */
const NOT_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanText(value: string): string {
  return value.replace(NOT_TEXT, '\uFFFD');
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes for both text content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return cleanText(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

export function text(value: string): Markup {
  return markup(escapeHtml(value));
}

/** For the page's own constants (its CSS), never for data. */
export function trusted(html: string): Markup {
  return markup(html);
}

function isMarkup(child: Child): child is Markup {
  return typeof child === 'object' && child !== null && !Array.isArray(child) && 'html' in child;
}

function renderChild(child: Child): string {
  if (child === null || child === undefined || child === false) return '';
  if (typeof child === 'string') return escapeHtml(child);
  if (typeof child === 'number') return Number.isFinite(child) ? String(child) : '';
  if (isMarkup(child)) return child.html;
  return child.map(renderChild).join('');
}

function renderAttributes(attributes: Attributes): string {
  let out = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE.test(name) || /^on/i.test(name) || name.toLowerCase() === 'style') {
      throw new Error(`markup: attribute ${JSON.stringify(name)} is not allowed`);
    }
    if (value === null || value === undefined || value === false) continue;
    if (value === true) {
      out += ` ${name}`;
      continue;
    }
    const textValue = typeof value === 'number' ? (Number.isFinite(value) ? String(Math.round(value * 100) / 100) : '0') : value;
    if (URL_ATTRIBUTES.has(name.toLowerCase()) && !/^#[A-Za-z][\w-]*$/.test(textValue)) {
      throw new Error(`markup: ${name} may only point inside the page, not to ${JSON.stringify(textValue)}`);
    }
    out += ` ${name}="${escapeHtml(textValue)}"`;
  }
  return out;
}

/** An element; string children are escaped. Numbers in attributes are rounded to 2 decimals. */
export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): Markup {
  if (!NAME.test(tag) || REFUSED_TAGS.has(tag.toLowerCase())) {
    throw new Error(`markup: element ${JSON.stringify(tag)} is not allowed`);
  }
  const open = `<${tag}${renderAttributes(attributes)}`;
  const inner = renderChild(children);
  if (VOID.has(tag)) return markup(`${open}>`);
  if (SVG_LEAVES.has(tag) && inner === '') return markup(`${open}/>`);
  return markup(`${open}>${inner}</${tag}>`);
}

/** Several siblings as one child. */
export function fragment(...children: Child[]): Markup {
  return markup(renderChild(children));
}
