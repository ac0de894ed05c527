"""Stored-XSS payloads for tests/browser/test_stored_xss.py.

Each payload that runs calls ``xss(N)`` (or ``alert(N)``): the test page defines ``xss`` before any
page script, so a hit is recorded with the payload's number. The forms cover script tags, event
handlers (firing on their own: onerror, onload, onfocus with autofocus, ontoggle), attribute
breakouts, javascript:/data: URLs, SVG and MathML (mutation XSS), comment/CDATA/raw-text breakouts,
KaTeX commands, template-injection strings and bidirectional controls.
"""

from __future__ import annotations

PAYLOADS: list[str] = [
    "<script>xss(1)</script>",
    '"><img src=x onerror=xss(2)>',
    "'><svg onload=xss(3)>",
    "<svg><script>xss(4)</script></svg>",
    "javascript:xss(5)",
    '<a href="javascript:xss(6)">click me</a>',
    '<iframe srcdoc="<script>parent.xss(7)</script>"></iframe>',
    "<details open ontoggle=xss(8)>",
    "<input autofocus onfocus=xss(9)>",
    "</textarea></title></style></script><script>xss(10)</script>",
    "--><script>xss(11)</script><!--",
    "]]><script>xss(12)</script><![CDATA[",
    "<math><mtext><table><mglyph><style><img src=x onerror=xss(13)>",
    "{{7*7}} {% print 7*7 %} ${7*7} #{7*7} <%= 7*7 %>",
    r"$\href{javascript:xss(15)}{tex link}$ and $\url{javascript:xss(15)}$",
    "\u202egnp.exe\u202c and \u2066isolated\u2069 text",
    '<object data="javascript:xss(17)"></object><embed src="javascript:xss(17)">',
    '<base href="javascript:xss(18)//"><meta http-equiv="refresh" content="0;url=javascript:xss(18)">',
    '" autofocus onfocus="xss(19)" x="',
    "' autofocus onfocus='xss(20)' x='",
    '<img src="x` `<script>xss(21)</script>"` `>',
    '<form action="javascript:xss(22)"><button>go</button></form>',
    "data:text/html,<script>alert(23)</script>",
    '<style>@import "javascript:xss(24)";</style><link rel=stylesheet href="javascript:xss(24)">',
    "<body onload=xss(25)><svg><animate onbegin=xss(25) attributeName=x dur=1s>",
    "<scr<script>ipt>xss(26)</scr</script>ipt>",
]

# Strings that must show literally where they are displayed (no template engine evaluates them).
TEMPLATE_INJECTION = PAYLOADS[13]
BIDI = PAYLOADS[15]

# Values that end up in href/src attributes of imported papers: schemes, and https URLs that try
# to break out of the attribute.
URLS: list[str] = [
    "javascript:xss(30)",
    " JaVaScRiPt:xss(31)",
    "data:text/html,<script>alert(32)</script>",
    'https://example.org/x"onmouseover="xss(33)',
    "https://example.org/'><script>xss(34)</script>",
    "vbscript:msgbox(35)",
]

# Comments: links are made clickable, so URLs that try to break out of the made link.
COMMENT_LINKS: list[str] = [
    'see https://example.org/"onmouseover="xss(40)" x=" here',
    "https://example.org/a'onmouseover='xss(41)'",
    "https://example.org/\u202etxt.exe",
    "https://example.org/<script>xss(42)</script>",
    "https://example.org/&quot;onmouseover=&quot;xss(43)",
]

# Run in the page after it loaded: everything that should never be in our DOM, whether or not
# it would have run (onmouseover needs a mouse; the CSP blocks most of the rest).
AUDIT_JS = r"""
() => {
  const bad = [];
  const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background',
                     'poster', 'srcdoc', 'codebase', 'cite', 'srcset'];
  const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
  const show = (el) => el.outerHTML.slice(0, 160);
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = a.value.replace(/[\s\x00-\x20]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push('event handler attribute: ' + show(el));
      if (URL_ATTRS.includes(name) && /^(javascript|vbscript|data:text|data:application)/.test(value)) {
        bad.push('script URL in ' + name + ': ' + show(el));
      }
      if (URL_ATTRS.includes(name) && BIDI.test(a.value)) bad.push('bidi control in ' + name + ': ' + show(el));
    }
    const tag = el.tagName.toLowerCase();
    let src = null;
    try { src = el.getAttribute('src') ? new URL(el.getAttribute('src'), location.href) : null; } catch (e) {}
    if (tag === 'script' && !(src && src.origin === location.origin && src.pathname.startsWith('/static/'))) {
      bad.push('script not from /static: ' + show(el));
    }
    if (['iframe', 'frame', 'object', 'embed', 'base', 'applet'].includes(tag)) bad.push('element ' + show(el));
    if (tag === 'meta' && (el.getAttribute('http-equiv') || '').toLowerCase() === 'refresh') bad.push(show(el));
    if (tag === 'link' && !(el.getAttribute('href') || '').match(/^(\/|https?:)/)) bad.push(show(el));
  }
  for (const el of document.querySelectorAll('.comment-body, .comment p')) {
    if (BIDI.test(el.textContent)) bad.push('bidi control in a comment: ' + show(el));
  }
  return bad;
}
"""

# Installed before any page script: the function payloads call, dialogs and CSP reports recorded.
INIT_JS = r"""
window.__xss = [];
window.__csp = [];
window.xss = (n) => window.__xss.push(n);
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '') + ' at ' +
                    (e.sourceFile || '') + ':' + e.lineNumber);
});
"""
