import { describe, expect, it } from 'vitest';
import { cleanText, escapeHtml, fragment, h, text, trusted } from '../../../../src/report/html/markup.js';

describe('markup', () => {
  it('escapes every string child and attribute value, so data can only ever be text', () => {
    const hostile = `</script><script>alert(1)</script><img src=x onerror="alert(2)">' & "`;
    const out = h('td', { title: hostile }, hostile).html;
    expect(out).toBe(
      '<td title="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&#39; &amp; &quot;">' +
        '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&#39; &amp; &quot;</td>',
    );
  });

  it('escapes already-escaped text again, so an entity in a log shows as written', () => {
    expect(text('&lt;b&gt; ]]> <![CDATA[x]]>').html).toBe('&amp;lt;b&amp;gt; ]]&gt; &lt;![CDATA[x]]&gt;');
  });

  it('nests markup without escaping it twice, and drops null, undefined and false children', () => {
    expect(h('p', {}, 'a<', h('b', {}, 'x'), null, undefined, false, [1, [2]]).html).toBe('<p>a&lt;<b>x</b>12</p>');
    expect(fragment(h('i', {}), 'y').html).toBe('<i></i>y');
  });

  it('writes void elements and empty SVG leaves in their short forms', () => {
    expect(h('br', {}).html).toBe('<br>');
    expect(h('rect', { x: 1.234567, width: 2 }).html).toBe('<rect x="1.23" width="2"/>');
    expect(h('rect', {}, h('title', {}, 't')).html).toBe('<rect><title>t</title></rect>');
  });

  it('writes boolean attributes by presence and leaves out null, undefined and false ones', () => {
    expect(h('details', { open: true, hidden: false, id: null, class: undefined }).html).toBe('<details open></details>');
  });

  it('turns control characters and unpaired UTF-16 halves into U+FFFD and keeps tabs, newlines, emoji and RTL text', () => {
    expect(cleanText('a\u0000b\u0007c\u001bd\u007fe\u0085f')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf');
    expect(cleanText('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(cleanText('tab\there\nnew 扩容 ✓ 😀 \u202Eevil\u202C مرحبا')).toBe('tab\there\nnew 扩容 ✓ 😀 \u202Eevil\u202C مرحبا');
    expect(escapeHtml('\u0000<')).toBe('\uFFFD&lt;');
  });

  it('refuses elements that run or load something, whatever the caller passes', () => {
    for (const tag of ['script', 'SCRIPT', 'iframe', 'object', 'embed', 'link', 'img', 'image', 'use', 'foreignObject', 'base', 'form', 'a b', '<x']) {
      expect(() => h(tag, {}), tag).toThrow(/not allowed/);
    }
  });

  it('refuses event handlers, inline styles and odd attribute names', () => {
    for (const name of ['onclick', 'ONLOAD', 'onerror', 'style', 'x"y', 'a b', '']) {
      expect(() => h('p', { [name]: 'v' }), name).toThrow(/not allowed/);
    }
  });

  it('allows links and sources only inside the page', () => {
    expect(h('a', { href: '#s-health' }, 'x').html).toBe('<a href="#s-health">x</a>');
    for (const url of ['https://example.com/', 'http://x', '//x', 'javascript:alert(1)', 'data:text/html,x', '#a b', '#"x']) {
      expect(() => h('a', { href: url }), url).toThrow(/only point inside the page/);
    }
    expect(() => h('svg', { 'xlink:href': 'https://x' })).toThrow(/only point inside the page/);
  });

  it('keeps trusted constants as they are (the page CSS), and only those', () => {
    expect(h('style', {}, trusted('a>b{x:1}')).html).toBe('<style>a>b{x:1}</style>');
  });
});
