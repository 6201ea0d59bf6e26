"""A lesson's printable worksheet: one HTML file with print CSS (A4, black on white), made for one language.

It holds the lesson's title and summary, the QR code and link students open it with, then every step: its
page, what to do, a box for what the student noticed, and the step's question (its choices to tick, or a
small map to mark) with room for the answer. The teacher's "what to notice" is left out: it is the answer
the students should find themselves. Everything in it is escaped text; nothing is fetched when it prints.
"""
from __future__ import annotations

import html
import io

import segno

from seqgen.lessons import Lesson, Question, Text
from seqgen.locale import N_, translations

from .pages import PAGES

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", Arial, sans-serif; color: #000;
  background: #fff; font-size: 11pt; line-height: 1.4; margin: 0 auto; max-width: 190mm; }
header { display: flex; gap: 8mm; align-items: flex-start; border-bottom: 1.5pt solid #000; padding-bottom: 4mm; }
header .intro { flex: 1; }
h1 { font-size: 19pt; margin: 0 0 2mm; }
.qr { width: 34mm; text-align: center; font-size: 8pt; word-break: break-all; }
.qr svg { width: 34mm; height: 34mm; display: block; }
.who { margin: 4mm 0; display: flex; gap: 10mm; }
.who span { flex: 1; border-bottom: 0.8pt solid #000; padding-bottom: 1mm; }
section { break-inside: avoid; margin: 5mm 0; }
h2 { font-size: 13pt; margin: 0 0 1mm; }
.page { font-size: 9pt; color: #333; }
.lines { border: 0.8pt solid #000; border-radius: 2mm; height: 22mm; margin-top: 2mm; padding: 1mm 2mm;
  font-size: 8pt; color: #444; }
.question { margin-top: 3mm; padding: 2mm 3mm; border-left: 2pt solid #000; }
.choice { margin: 1.5mm 0; }
.choice::before { content: ""; display: inline-block; width: 4mm; height: 4mm; border: 0.8pt solid #000;
  margin-right: 2mm; vertical-align: -0.6mm; }
.map { width: 60mm; height: 60mm; border: 0.8pt solid #000; margin-top: 2mm; position: relative;
  background-image: linear-gradient(#bbb 0.4pt, transparent 0.4pt), linear-gradient(90deg, #bbb 0.4pt, transparent 0.4pt);
  background-size: 7.5mm 7.5mm; }
.map span { position: absolute; font-size: 7pt; }
@media screen { body { padding: 8mm; } .print-hint { display: block; } }
@media print { .print-hint { display: none; } }
.print-hint { display: none; font-size: 9pt; background: #eef; padding: 2mm 3mm; margin-bottom: 4mm; }
"""


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (error correction M): sharp at any print size, fetched from nowhere."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", xmldecl=False, svgns=True, border=2, omitsize=True)
    return buf.getvalue().decode("utf-8")


def worksheet_html(lesson: Lesson, lang: str, url: str) -> str:
    """The lesson's worksheet in `lang` ("en" or "zh"), students' link `url` in its QR code."""
    t = translations(lang).gettext

    def esc(text: Text | str) -> str:
        return html.escape(text.in_language(lang) if isinstance(text, Text) else text)

    parts = [f'<!DOCTYPE html><html lang="{"zh-Hans" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
             f"<title>{esc(lesson.title)}</title><style>{PRINT_CSS}</style></head><body>",
             f'<p class="print-hint">{esc(t(N_("Print this page (Ctrl+P or ⌘P) for one worksheet per student.")))}</p>',
             '<header><div class="intro">', f"<h1>{esc(lesson.title)}</h1>", f"<p>{esc(lesson.summary)}</p>",
             f"<p>{esc(t(N_('About {m} minutes, {n} steps.')).format(m=lesson.minutes, n=len(lesson.steps)))}</p>",
             "</div>", f'<div class="qr">{qr_svg(url)}<div>{esc(url)}</div></div></header>',
             f'<div class="who"><span>{esc(t(N_("Name")))}</span><span>{esc(t(N_("Date")))}</span></div>']
    for number, step in enumerate(lesson.steps, 1):
        page = PAGES.get(step.page)
        parts += ["<section>", f"<h2>{esc(t(N_('Step {n}')).format(n=number))}: {esc(step.title)}</h2>",
                  f'<div class="page">{esc(t(N_("On the page: {page}")).format(page=t(page.title)))}</div>' if page
                  else "",
                  f"<p><b>{esc(t(N_('Do:')))}</b> {esc(step.do)}</p>",
                  f'<div class="lines">{esc(t(N_("What I noticed:")))}</div>']
        if step.question is not None:
            parts.append(question_html(step.question, lang))
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def question_html(q: Question, lang: str) -> str:
    t = translations(lang).gettext
    body = [f'<div class="question"><b>{html.escape(t(N_("Question:")))}</b> '
            f"{html.escape(q.prompt.in_language(lang))}"]
    if q.choices:                     # a choice question; a point question has none
        body += [f'<div class="choice">{html.escape(c.in_language(lang))}</div>' for c in q.choices]
    else:
        body.append('<div class="map"><span style="left:1mm;bottom:1mm">z₁ →</span>'
                    '<span style="left:1mm;top:1mm">z₂ ↑</span></div>')
        body.append(f"<div>{html.escape(t(N_('Mark the point on the map.')))}</div>")
    body.append("</div>")
    return "".join(body)
