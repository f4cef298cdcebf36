"""A drawing pad for one character: a canvas in the page whose value is the drawing as a PNG data URL.

Gradio's own image inputs send their pixels through its upload route, which this app keeps closed
(kepkreator/ui/guard.py); the pad sends its drawing as the event's value instead, inside the queue's bounded body,
and its handler bounds it again in bytes and pixels (kepkreator/hands.py). It is sent when a stroke ends and when
the pad is cleared (an empty value).
"""
from __future__ import annotations

import gradio as gr

SIDE = 224  # canvas pixels
# A digit drawn across most of the pad then has strokes about an eighth of its height, as MNIST's digits do.
PEN = SIDE // 14

MARKUP = f"""
<div class="kk-pad">
  <canvas width="{SIDE}" height="{SIDE}" role="img" aria-label="Drawing pad: draw one digit here"></canvas>
  <button type="button" class="kk-pad-clear">Clear the pad</button>
</div>
"""

STYLE = f"""
.kk-pad {{ display: flex; flex-direction: column; align-items: flex-start; gap: 6px; }}
.kk-pad canvas {{ width: {SIDE}px; height: {SIDE}px; max-width: 100%; border: 1px solid var(--border-color-primary);
  border-radius: 6px; background: #fff; touch-action: none; cursor: crosshair; }}
.kk-pad-clear {{ padding: 2px 10px; border: 1px solid var(--border-color-primary); border-radius: 4px;
  background: var(--button-secondary-background-fill); font-size: 14px; }}
"""

# Pointer events serve a mouse, a pen and a finger alike; touch-action: none keeps a finger's stroke from
# scrolling the page.
SCRIPT = f"""
const canvas = element.querySelector('canvas');
const pen = canvas.getContext('2d');
let last = null;
function blank() {{ pen.fillStyle = '#fff'; pen.fillRect(0, 0, canvas.width, canvas.height); }}
function at(event) {{
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}}
function line(to) {{
  pen.strokeStyle = '#000'; pen.lineWidth = {PEN}; pen.lineCap = 'round'; pen.lineJoin = 'round';
  pen.beginPath(); pen.moveTo(last[0], last[1]); pen.lineTo(to[0], to[1]); pen.stroke(); last = to;
}}
blank();
canvas.addEventListener('pointerdown', event => {{
  last = at(event); line(last); canvas.setPointerCapture(event.pointerId); event.preventDefault();
}});
canvas.addEventListener('pointermove', event => {{ if (last) line(at(event)); }});
function end() {{
  if (!last) return;
  last = null;
  props.value = canvas.toDataURL('image/png');
  trigger('change');
}}
canvas.addEventListener('pointerup', end);
canvas.addEventListener('pointercancel', end);
element.querySelector('.kk-pad-clear').addEventListener('click', () => {{
  blank(); props.value = ''; trigger('change');
}});
"""


def drawing_pad(elem_id: str) -> gr.HTML:
    """The pad; its value (a data URL, '' when blank) reaches handlers as a string."""
    return gr.HTML("", html_template=MARKUP, css_template=STYLE, js_on_load=SCRIPT, elem_id=elem_id,
                   apply_default_css=False)
