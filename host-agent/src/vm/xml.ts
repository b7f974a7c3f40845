/**
 * A tiny XML writer for libvirt documents. Every attribute value and every text node goes through
 * `escapeXml`, so a value from a spec (a path, a kernel command line) can never close an element or
 * open a new one.
 */

export type XmlAttrs = Readonly<Record<string, string | number | undefined>>;
export type XmlChild = XmlElement | string | false | null | undefined;

export interface XmlElement {
  readonly name: string;
  readonly attrs: XmlAttrs;
  readonly children: readonly XmlChild[];
}

/** One element; `undefined` attributes and falsy children are left out, so optional parts read inline. */
export function el(name: string, attrs: XmlAttrs = {}, ...children: XmlChild[]): XmlElement {
  return { name, attrs, children };
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

// XML 1.0 forbids most C0 controls even as character references; libvirt rejects them too.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

export function escapeXml(value: string): string {
  if (FORBIDDEN.test(value))
    throw new Error(`value holds a character XML cannot carry: ${JSON.stringify(value)}`);
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Renders with two-space indentation; an element with only text keeps it on one line. */
export function renderXml(root: XmlElement): string {
  return `${render(root, "")}\n`;
}

function render(node: XmlElement, indent: string): string {
  const attrs = Object.entries(node.attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}='${escapeXml(String(v))}'`)
    .join("");
  const children = node.children.filter((c): c is XmlElement | string => typeof c === "string" || !!c);
  if (children.length === 0) return `${indent}<${node.name}${attrs}/>`;
  if (children.every((c) => typeof c === "string")) {
    return `${indent}<${node.name}${attrs}>${children.map((c) => escapeXml(c as string)).join("")}</${node.name}>`;
  }
  const inner = children
    .map((c) => (typeof c === "string" ? `${indent}  ${escapeXml(c)}` : render(c, `${indent}  `)))
    .join("\n");
  return `${indent}<${node.name}${attrs}>\n${inner}\n${indent}</${node.name}>`;
}
