"""The report's stylesheet, inline in each page and allowed by its hash in the
Content-Security-Policy (no other style, no script, nothing from another origin): a phone's
width up to a desktop's, light or dark as the reader's system prefers."""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root{color-scheme:light dark;--fg:#1d232b;--muted:#5b6673;--bg:#fbfbfa;--card:#fff;
--line:#dde1e6;--track:#e8ebef;--bar:#2f6fb3;--whisker:#1d232b;--accent:#1f5c99}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#a3adb8;--bg:#14181d;
--card:#1c2128;--line:#2e353e;--track:#2a3139;--bar:#5b9bdc;--whisker:#f2f4f6;
--accent:#8dbdf0}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:break-word}
main{max-width:60rem;margin:0 auto;padding:1rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:baseline;
justify-content:space-between}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.2rem;margin:2rem 0 .75rem}
h3{font-size:1rem;margin:0 0 .5rem}
a{color:var(--accent)}
nav{display:flex;gap:.75rem}
nav a[aria-current]{font-weight:600;text-decoration:none;color:var(--fg)}
.muted,small{color:var(--muted)}
section.card,article.card{background:var(--card);border:1px solid var(--line);
border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem;
margin:0;padding:0;list-style:none}
.figures li{background:var(--card);border:1px solid var(--line);border-radius:.5rem;
padding:.75rem}
.figures b{display:block;font-size:1.5rem;font-variant-numeric:tabular-nums}
ol.options{list-style:none;margin:0;padding:0}
ol.options li{margin:0 0 .75rem}
.option{display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 1rem}
.numbers{font-variant-numeric:tabular-nums;white-space:nowrap}
svg.bar{display:block;width:100%;height:.9rem}
svg.part{display:block;width:100%;height:.3rem;margin-top:.2rem}
.track{fill:var(--track)}
.share{fill:var(--bar)}
.interval{stroke:var(--whisker);stroke-width:1.5}
.options.plain li{margin:0 0 .25rem}
.verdict{margin:.5rem 0 0;font-style:italic}
table{width:100%;border-collapse:collapse;font-size:.95rem}
th,td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid var(--line);
vertical-align:top}
td:first-child,blockquote{overflow-wrap:anywhere}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th a{text-decoration:none}
th a[aria-current]{text-decoration:underline}
@media (max-width:36rem){.when{display:none}table{font-size:.9rem}}
blockquote{margin:0 0 .75rem;padding:.5rem .75rem;border-left:3px solid var(--line);
background:var(--card);white-space:pre-wrap}
figure{margin:0 0 1rem}
.days td:first-child{white-space:nowrap}
figcaption{font-size:.9rem;margin-bottom:.25rem}
svg.days{display:block;width:100%;height:3rem;background:var(--track);border-radius:.2rem}
.unknown{fill:var(--muted)}
.axis{display:flex;justify-content:space-between}
details{margin-top:.5rem}
summary{cursor:pointer;color:var(--accent)}
.trend-row{display:flex;align-items:center;gap:.75rem;margin-top:.25rem}
.trend-row p{margin:0}
svg.trend{flex:0 0 6rem;width:6rem;height:1.5rem}
.spark{fill:none;stroke:var(--bar);stroke-width:2}
.track-line{stroke:var(--line);stroke-width:1}
.dot{stroke:var(--bar);stroke-width:6;stroke-linecap:round}
.groups p{margin:0 0 .75rem}
blockquote footer{font-size:.85rem;color:var(--muted);margin-top:.25rem}
""".strip()

CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()

# Nothing but this inline stylesheet: no script, no frame, no form posted anywhere.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{CSS_HASH}'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
