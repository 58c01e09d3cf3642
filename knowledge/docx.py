"""Read a Word plan (.docx) into the same text form the plan reader knows.

Word keeps footnotes in a part of their own (word/footnotes.xml) and marks where each is cited with a
reference in the body. Here each reference becomes a superscript number and the footnote's text is written
right after its paragraph — the layout document.py already reads. Tables become one line per row
("Chỉ tiêu: Tỷ lệ hồ sơ đúng hạn; Kết quả: 99,8%"), so a question can reach a row. The header table
(issuer, "Số: …", place and date) is written line by line, where the reader takes it as metadata.
"""

from __future__ import annotations

import re
from pathlib import Path

from docx.opc.exceptions import OpcError
from lxml import etree

__all__ = ["OpcError", "docx_to_text"]

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _text(element: etree._Element, footnotes: dict[str, int] | None = None) -> str:
    """A paragraph's text, italic stretches as *…*, footnote references as superscript numbers.

    Word cuts text into runs anywhere (mid-word, for a spell check or a revision), so consecutive italic
    runs are joined before they are marked, and no space is added that the document does not have.
    """
    pieces: list[tuple[bool, str]] = []  # (italic, text), consecutive runs of one kind joined
    for run in element.iter(f"{W}r"):
        ref = run.find(f"{W}footnoteReference")
        if ref is not None and footnotes is not None:
            wid = ref.get(f"{W}id") or ""
            footnotes.setdefault(wid, len(footnotes) + 1)
            pieces.append((False, str(footnotes[wid]).translate(SUPERSCRIPT)))
            continue
        text = "".join((t.text or "") for t in run.iter(f"{W}t"))
        text += "\t" * len(run.findall(f"{W}tab"))
        props = run.find(f"{W}rPr")
        mark = props.find(f"{W}i") if props is not None else None
        italic = mark is not None and mark.get(f"{W}val") not in ("0", "false")
        if pieces and pieces[-1][0] == italic:
            pieces[-1] = (italic, pieces[-1][1] + text)
        else:
            pieces.append((italic, text))
    out: list[str] = []
    for italic, text in pieces:
        core = text.strip()
        if italic and core and len(core) < 80:
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            out.append(f"{lead}*{core}*{trail}")
        else:
            out.append(text)
    return " ".join("".join(out).split())


def _footnote_texts(package_root: etree._Element | None) -> dict[str, str]:
    if package_root is None:
        return {}
    texts: dict[str, str] = {}
    for note in package_root.iter(f"{W}footnote"):
        if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        paras = [_text(p) for p in note.iter(f"{W}p")]
        texts[note.get(f"{W}id") or ""] = " ".join(p for p in paras if p)
    return texts


_FIGURE = re.compile(r"[\d\s.,%/()+-]+")


def _row_cells(tr: etree._Element, header: bool) -> list[str]:
    """One text per grid column: a merged header cell names every column it spans; a merged data cell
    fills its first column only."""
    cells: list[str] = []
    for tc in tr.findall(f"{W}tc"):
        text = " ".join(_text(p) for p in tc.iter(f"{W}p")).strip()
        span = tc.find(f"{W}tcPr/{W}gridSpan")
        val = (span.get(f"{W}val") or "") if span is not None else ""
        n = max(1, int(val)) if val.isdigit() else 1
        cells.extend([text] * n if header else [text] + [""] * (n - 1))
    return cells


def _table_lines(table: etree._Element) -> list[str]:
    """A table with a header becomes one labelled line per row ("Chỉ tiêu: …; Kế hoạch năm 2024: …"); a
    header of two rows under merged cells ("Kết quả thống kê" over "Đơn vị tính | Số liệu") is read as one."""
    trs = table.findall(f"{W}tr")
    if not trs:
        return []
    header = _row_cells(trs[0], header=True)
    numeric = sum(bool(_FIGURE.fullmatch(c)) for c in header if c)
    if not (len(trs) > 1 and len(header) > 1 and numeric <= len(header) // 2):  # no header: rows as text
        rows = [_row_cells(tr, header=False) for tr in trs]
        return [" ".join(c for c in row if c) for row in rows if any(row)]
    first_body = 1
    second = _row_cells(trs[1], header=True) if len(trs) > 2 else []
    if len(set(header)) < len(header) and second and not any(_FIGURE.fullmatch(c) for c in second if c):
        header = [h if not s or s == h else f"{h} {s}" for h, s in
                  zip(header, second + [""] * (len(header) - len(second)))]
        first_body = 2
    body = [_row_cells(tr, header=False) for tr in trs[first_body:]]
    # A header's asides ("Chỉ tiêu thống kê *(Sử dụng trong kỳ báo cáo…)*") would repeat on every row.
    header = [re.sub(r"\s*\*?\([^)]*\)\*?", "", h).strip() or h for h in header]
    lines = []
    for row in body:
        pairs = [f"{h}: {v}" if h else v for h, v in zip(header, row) if v]
        if pairs:
            lines.append("; ".join(pairs) + ".")
    return lines


def docx_to_text(path: str | Path) -> str:
    """The document as text, in reading order, with its footnotes after the paragraphs that cite them."""
    from docx import Document

    document = Document(str(path))
    notes_part = next((p for p in document.part.package.parts if str(p.partname) == "/word/footnotes.xml"), None)
    note_texts = _footnote_texts(etree.fromstring(notes_part.blob) if notes_part is not None else None)
    numbers: dict[str, int] = {}
    lines: list[str] = []
    first_table = True
    for child in document.element.body.iterchildren():
        if child.tag == f"{W}p":
            before = set(numbers)
            text = _text(child, numbers)
            if text:
                lines.append(text)
            for wid in [w for w in numbers if w not in before]:
                body = note_texts.get(wid, "")
                if body:
                    lines.append(f"{str(numbers[wid]).translate(SUPERSCRIPT)} {body}")
        elif child.tag == f"{W}tbl":
            if first_table and not lines:  # the header table: issuer, number, place and date, one per line
                lines.extend(_text(p) for p in child.iter(f"{W}p") if _text(p))
            else:
                lines.extend(_table_lines(child))
            first_table = False
    return "\n\n".join(lines) + "\n"
