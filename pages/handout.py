"""The handout of an ended training session: its questions, each with the passages the answer
quoted and their citations, and the room's quiz results as totals (nobody's own answers). As a
printable web page (A4 from the browser's print) and as Markdown for the intranet.

Every text in it, the questions above all, is escaped for the format it goes into: nothing anyone
typed becomes HTML or Markdown markup.
"""

from __future__ import annotations

import html
import time

from bot.answer import cite
from channels.cards import markdown_text
from pages.sessions import Session

STYLE = """
:root { color-scheme: light; }
body { margin: 0 auto; max-width: 46em; padding: 2em 1.5em;
       font: 12pt/1.5 "Segoe UI", system-ui, Arial, sans-serif;
       color: #0b0c0c; background: #fff; }
h1 { font-size: 20pt; margin: 0 0 0.2em; }
h2 { font-size: 15pt; margin: 1.6em 0 0.6em; border-bottom: 2px solid #0b0c0c; padding-bottom: 0.2em; }
.meta { color: #505a5f; margin: 0 0 1em; }
.item { margin: 0 0 1.2em; break-inside: avoid; page-break-inside: avoid; }
.question { font-weight: 700; margin: 0 0 0.4em; }
blockquote { margin: 0.4em 0 0.2em 0; padding: 0.1em 0 0.1em 1em; border-left: 4px solid #1d70b8; }
blockquote p { margin: 0.2em 0; }
.citation { margin: 0 0 0.6em 1.25em; color: #505a5f; font-size: 10.5pt; }
.none { color: #505a5f; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0; font-size: 11pt; }
th, td { border: 1px solid #b1b4b6; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
.actions { margin: 1em 0 2em; }
.actions a, .actions button { font: inherit; margin-right: 1em; }
@page { size: A4; margin: 18mm 16mm; }
@media print {
  .actions { display: none; }
  body { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def quoted_parts(payload: dict | None) -> tuple[list[tuple[list[str], str]], str | None]:
    """((paragraphs, citation) per quote, or the "not covered" sentence) of an answer's payload."""
    if not payload:
        return [], None
    kind = payload.get("type")
    if kind in ("answer", "quiz_feedback"):
        return [([q["text"]], q["citation"]) for q in payload.get("quotes", [])], None
    if kind == "section":
        return [([p["text"] for p in payload.get("passages", [])], payload.get("citation", ""))], None
    if kind == "comparison":
        return [([r["text"]], r["citation"]) for r in payload.get("councils", []) if r.get("addressed")], None
    if kind == "not_covered":
        return (
            [],
            f"The guidance does not cover this. Ask {payload.get('contacts', 'your Monitoring Officer')}.",
        )
    return [], None


def quiz_rows(session: Session) -> list[dict]:
    rows = []
    for current in session.rounds:
        if not current.revealed:
            continue
        tally = current.tally()
        votes = sum(row["votes"] for row in tally)
        right = next(row for row in tally if row["right"])
        rows.append({"round": current, "votes": votes, "right": right["votes"], "tally": tally})
    return rows


def when(session: Session) -> str:
    return time.strftime("%d %B %Y, %H:%M", time.localtime(session.started))


def page(session: Session, markdown_href: str) -> str:
    e = html.escape
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Training session {e(session.code)}: handout</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<h1>Social media guidance: training session handout</h1>",
        f'<p class="meta">Session {e(session.code)}, {e(when(session))}. '
        f"{len(session.attendees)} people joined; {len(session.questions)} questions were asked. "
        "Every answer is the guidance's own words, with where it stands.</p>",
        '<p class="actions"><button type="button" onclick="window.print()">Print or save as PDF</button>'
        f'<a href="{e(markdown_href)}">Markdown for the intranet</a></p>',
        "<h2>Questions</h2>",
    ]
    if not session.questions:
        parts.append('<p class="none">No questions were asked.</p>')
    for number, question in enumerate(session.questions, 1):
        quotes, none = quoted_parts(question.payload)
        parts.append(f'<section class="item"><p class="question">{number}. {e(question.text)}</p>')
        for paragraphs, citation in quotes:
            body = "".join(f"<p>“{e(p)}”</p>" for p in paragraphs)
            parts.append(f'<blockquote>{body}</blockquote><p class="citation">— {e(citation)}</p>')
        if none:
            parts.append(f'<p class="none">{e(none)}</p>')
        parts.append("</section>")
    parts.append("<h2>Quiz</h2>")
    rows = quiz_rows(session)
    if not rows:
        parts.append('<p class="none">No quiz questions were put to the room.</p>')
    else:
        answers = sum(r["votes"] for r in rows)
        right = sum(r["right"] for r in rows)
        parts.append(f"<p>{len(rows)} questions; {answers} answers, of which {right} right.</p>")
    for row in rows:
        current = row["round"]
        parts.append(
            f'<section class="item"><p class="question">{current.number}. {e(current.scenario.question)}</p>'
        )
        parts.append("<table><thead><tr><th>Option</th><th>Answers</th></tr></thead><tbody>")
        for option in row["tally"]:
            mark = " (right)" if option["right"] else ""
            parts.append(
                f"<tr><td>{e(option['letter'])}. {e(option['text'])}{mark}</td>"
                f"<td>{option['votes']}</td></tr>"
            )
        parts.append("</tbody></table>")
        for passage in current.scenario.passages:
            parts.append(f"<blockquote><p>“{e(passage.text)}”</p></blockquote>")
            parts.append(f'<p class="citation">— {e(cite(passage))}</p>')
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def markdown(session: Session) -> str:
    """The same handout as Markdown: quotes as block quotes, all text escaped."""
    m = markdown_text
    lines = [
        "# Social media guidance: training session handout",
        "",
        m(
            f"Session {session.code}, {when(session)}. {len(session.attendees)} people joined; "
            f"{len(session.questions)} questions were asked."
        ),
        "",
        "## Questions",
        "",
    ]
    if not session.questions:
        lines += ["No questions were asked.", ""]
    for number, question in enumerate(session.questions, 1):
        quotes, none = quoted_parts(question.payload)
        lines += [f"**{number}\\. {m(' '.join(question.text.split()))}**", ""]
        for paragraphs, citation in quotes:
            for paragraph in paragraphs:
                lines += ["> " + line for line in m(f"“{paragraph}”").split("\n")] + [">"]
            lines[-1:] = []
            lines += ["", m(f"— {citation}"), ""]
        if none:
            lines += [m(none), ""]
    lines += ["## Quiz", ""]
    rows = quiz_rows(session)
    if not rows:
        lines += ["No quiz questions were put to the room.", ""]
    else:
        answers = sum(r["votes"] for r in rows)
        right = sum(r["right"] for r in rows)
        lines += [f"{len(rows)} questions; {answers} answers, of which {right} right.", ""]
    for row in rows:
        current = row["round"]
        lines += [
            f"**{current.number}\\. {m(current.scenario.question)}**",
            "",
            "| Option | Answers |",
            "| --- | --- |",
        ]
        for option in row["tally"]:
            mark = " (right)" if option["right"] else ""
            lines.append(f"| {option['letter']}\\. {m(option['text'])}{mark} | {option['votes']} |")
        lines.append("")
        for passage in current.scenario.passages:
            lines += ["> " + line for line in m(f"“{passage.text}”").split("\n")]
            lines += ["", m(f"— {cite(passage)}"), ""]
    return "\n".join(lines).rstrip() + "\n"
