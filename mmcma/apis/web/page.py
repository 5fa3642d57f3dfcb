"""The web page's HTML: one self-contained document, no external files.

:func:`render_page` writes the whole page (a form to drop or choose photos,
the threshold / top-k control, the results); :func:`render_results` the
results alone, which the page's script fetches and puts in place, so the
chosen photos stay in the form and a new threshold re-classifies them. The
form also works without the script (the server then answers with the whole
page). Every text from the model, the config or an upload is HTML-escaped.
"""
import base64
from html import escape
from typing import Dict, Optional, Sequence

from .predictor import PhotoResult

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;
padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.4rem;margin:.2rem 0}.model{color:#555;margin:.2rem 0}
ul.notes{margin:.4rem 0 1rem;padding-left:1.2rem;color:#333}
#drop{display:block;border:2px dashed #888;border-radius:.6rem;padding:2rem;
text-align:center;cursor:pointer;background:#fafafa}
#drop.over{background:#e8f0ff;border-color:#3366cc}
#photos{margin-top:.6rem}
fieldset{border:1px solid #ccc;border-radius:.4rem;margin:.8rem 0;
display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
input[type=number]{width:5rem}button{padding:.3rem 1rem}
#status{min-height:1.2rem;color:#555}
.result{border-top:1px solid #ddd;padding:.8rem 0;display:flex;
flex-wrap:wrap;gap:1rem}
.result h2{font-size:1.05rem;width:100%;margin:0;word-break:break-all}
.photo{width:18rem;max-width:100%;height:auto;align-self:flex-start}
table{border-collapse:collapse;min-width:16rem}
td,th{padding:.15rem .5rem;text-align:left}td.score{text-align:right;
font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.7rem;background:#3366cc;
vertical-align:middle}.all .bar{background:#aab}
figure{margin:0;width:100%}figure img{max-width:100%}
figcaption{color:#555;font-size:.9rem}
.error{color:#a00000;font-weight:600}
"""

_SCRIPT = """
const form = document.getElementById('upload');
const input = document.getElementById('photos');
const drop = document.getElementById('drop');
const status = document.getElementById('status');
const results = document.getElementById('results');
let sent = 0;
async function send() {
  if (!input.files.length) {
    status.textContent = 'Choose or drop one or more photos first.';
    return;
  }
  const id = ++sent;
  status.textContent = `Classifying ${input.files.length} photo(s)\\u2026`;
  let html;
  try {
    const response = await fetch('predict?fragment=1',
                                 {method: 'POST', body: new FormData(form)});
    html = await response.text();
    if (id !== sent) return;  // a newer request is on its way
    status.textContent = response.ok ? 'Done.' : 'Refused: see below.';
  } catch (error) {
    if (id !== sent) return;
    html = '';
    status.textContent = `The server did not answer (${error}).`;
  }
  results.innerHTML = html;
  results.dataset.updates = String(Number(results.dataset.updates) + 1);
}
form.addEventListener('submit', (event) => {
  event.preventDefault(); send();
});
input.addEventListener('change', send);
for (const el of form.querySelectorAll('.rule input')) {
  el.addEventListener('change', () => { if (input.files.length) send(); });
}
drop.addEventListener('dragover', (event) => {
  event.preventDefault(); drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault(); drop.classList.remove('over');
  input.files = event.dataTransfer.files;
  send();
});
"""


def _data_url(mime: str, data: bytes) -> str:
    return f'data:{mime};base64,{base64.b64encode(data).decode("ascii")}'


def _score_rows(pairs, css: str) -> str:
    return ''.join(
        f'<tr class="{css}" data-class="{escape(name)}" '
        f'data-score="{score!r}"><td class="name">{escape(name)}</td>'
        f'<td class="score">{score:.3f}</td><td><span class="bar" '
        f'style="width:{100 * min(max(score, 0.0), 1.0):.1f}px"></span>'
        '</td></tr>' for name, score in pairs)


def _describe(selection: Dict[str, float]) -> str:
    if 'thr' in selection:
        return f'score \u2265 {selection["thr"]:g}'
    return f'top-{selection["topk"]}'


def render_result(result: PhotoResult, selection: Dict[str, float]) -> str:
    """One photo's card: labels and scores, every score, the figures; or
    the reason it was refused."""
    name = escape(result.name)
    if result.error is not None:
        return (f'<article class="result refused" data-name="{name}">'
                f'<h2>{name}</h2><p class="error" role="alert">'
                f'{escape(result.error)}</p></article>')
    if result.labels:
        labels = (f'<table class="labels"><caption>{len(result.labels)} '
                  f'label(s), {escape(_describe(selection))}</caption>'
                  '<thead><tr><th>label</th><th>score</th><th></th></tr>'
                  f'</thead><tbody>{_score_rows(result.labels, "label")}'
                  '</tbody></table>')
    else:
        labels = (f'<p class="no-label">No label has a '
                  f'{escape(_describe(selection))}.</p>')
    every = (f'<details><summary>All {len(result.scores)} scores</summary>'
             f'<table class="all"><tbody>{_score_rows(result.scores, "any")}'
             '</tbody></table></details>')
    figures = ''.join(
        f'<figure class="{escape(f.kind)}"><img class="{escape(f.kind)}" '
        f'alt="{escape(f.kind)} of {name}" '
        f'src="{_data_url("image/png", f.png)}"><figcaption>'
        f'{escape(f.caption)}</figcaption></figure>' for f in result.figures)
    return (f'<article class="result" data-name="{name}"><h2>{name}</h2>'
            f'<img class="photo" alt="{name}" '
            f'src="{_data_url("image/jpeg", result.photo)}">'
            f'<div>{labels}{every}</div>{figures}</article>')


def render_results(results: Sequence[PhotoResult],
                   selection: Optional[Dict[str, float]],
                   message: Optional[str] = None) -> str:
    """The results part of the page: a refusal ``message`` of the whole
    request, or one card per photo."""
    if message is not None:
        return f'<p class="error" role="alert">{escape(message)}</p>'
    return ''.join(render_result(r, selection) for r in results)


def render_page(title: str,
                notes: Sequence[str],
                selection: Dict[str, float],
                num_classes: int,
                results_html: str = '') -> str:
    """The whole page.

    Args:
        title (str): What is served (the config's name).
        notes (Sequence[str]): Sentences about the model.
        selection (dict): The rule the form shows, ``{'thr': t}`` or
            ``{'topk': k}``.
        num_classes (int): Labels of the model (top-k's maximum).
        results_html (str): :func:`render_results` output.
    """
    thr = selection.get('thr', 0.5)
    topk = selection.get('topk', min(3, num_classes))
    checked = {rule: ' checked' if rule in selection else ''
               for rule in ('thr', 'topk')}
    notes_html = ''.join(f'<li>{escape(n)}</li>' for n in notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mmcma: {escape(title)}</title><style>{_STYLE}</style></head>
<body><header><h1>Multi-label classification</h1>
<p class="model">{escape(title)}</p><ul class="notes">{notes_html}</ul>
</header>
<form id="upload" action="predict" method="post"
 enctype="multipart/form-data">
<label id="drop" for="photos">Drop photos here, or click to choose them
<br><input id="photos" name="photos" type="file" accept="image/*" multiple>
</label>
<fieldset class="rule"><legend>Labels shown</legend>
<label><input type="radio" name="rule" value="thr"{checked['thr']}>
 score at least</label>
<input id="thr" name="thr" type="number" min="0" max="1" step="0.05"
 value="{thr:g}" aria-label="threshold">
<label><input type="radio" name="rule" value="topk"{checked['topk']}>
 the best</label>
<input id="topk" name="topk" type="number" min="1" max="{num_classes}"
 step="1" value="{topk}" aria-label="top-k">
<button type="submit">Classify</button></fieldset></form>
<p id="status" role="status"></p>
<section id="results" data-updates="0">{results_html}</section>
<script>{_SCRIPT}</script></body></html>"""
