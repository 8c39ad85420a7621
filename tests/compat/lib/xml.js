'use strict';
// Minimal XML reader for the element-only documents the API returns
// (no attributes on elements, text content with the five predefined entities).
// Produces { name, children: [...], text } nodes.

function decodeEntities(s) {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (m, e) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function parseXml(text) {
  let pos = 0;
  let declaration = null;
  const decl = /^<\?xml[^?]*\?>/.exec(text);
  if (decl) { declaration = decl[0]; pos = decl[0].length; }
  const root = { name: '#document', children: [], text: '' };
  const stack = [root];
  const tagRe = /<(\/?)([A-Za-z_][\w.\-:]*)((?:\s+[^>]*?)?)\s*(\/?)>/y;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      if (text.slice(pos).trim()) throw new Error(`trailing text at ${pos}`);
      break;
    }
    if (lt > pos) top.text += decodeEntities(text.slice(pos, lt));
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      pos = end + 3;
      continue;
    }
    tagRe.lastIndex = lt;
    const m = tagRe.exec(text);
    if (!m) throw new Error(`malformed tag at ${lt}: ${text.slice(lt, lt + 40)}`);
    const [whole, closing, name, attrs, selfClosing] = m;
    if (attrs && attrs.trim()) throw new Error(`unexpected attributes on <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`mismatched </${name}> (open: ${open && open.name})`);
    } else {
      const node = { name, children: [], text: '', selfClosing: !!selfClosing };
      top.children.push(node);
      if (!selfClosing) stack.push(node);
    }
    pos = lt + whole.length;
  }
  if (stack.length !== 1) throw new Error(`unclosed element <${stack[stack.length - 1].name}>`);
  if (root.children.length !== 1) throw new Error(`expected one root element, got ${root.children.length}`);
  if (root.text.trim()) throw new Error('text outside the root element');
  return { declaration, root: root.children[0] };
}

function child(node, name) {
  const found = node.children.filter((c) => c.name === name);
  if (found.length > 1) throw new Error(`<${node.name}> has ${found.length} <${name}> children`);
  return found[0];
}

function children(node, name) {
  return node.children.filter((c) => c.name === name);
}

function textOf(node, name) {
  const c = child(node, name);
  return c ? c.text : undefined;
}

module.exports = { parseXml, child, children, textOf };
