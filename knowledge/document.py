"""Read a Vietnamese administrative plan into sections, passages, footnotes and targets.

The reader knows the conventions of the genre, not one file: "Phần I", roman "I –", "1.", "1.1.",
"4.3.1.", targets "1)", run-in labels ("- *Về chăn nuôi*:"), lists, a header (số, date, title) and a
signature block. Footnotes are superscript numbers; their texts follow a little after the citing paragraph,
at the bottom of a page, so a page break can split a paragraph around them and a long footnote can run on
past the next page's body. Both are put back together here, by the layout rules of a printed page.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .pdftext import repair
from .text import fold, superscript_digits

# The section a document's header and signature stand under: our label, not the document's words (an English
# reply says it in English, answer_label).
META_SECTION = "Thông tin văn bản"
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FOOTNOTE_START = re.compile(rf"^([{SUPERSCRIPT}]+)\s*(.*)$")
# A footnote marker: superscript digits, except ² ³ written as the unit of metres (68.000m², 680 m³).
_MARKER = re.compile(rf"(?<![\d\s]m)(?<!^m)[{SUPERSCRIPT}]+")
_PART = re.compile(r"^Phần\s+([IVXLC]+|\d+)\b\s*[.:–—-]?\s*(.*)$", re.IGNORECASE)
_ROMAN = re.compile(r"^([IVXLC]{1,5})\s*[.–—-]\s*(.+)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.\s+(.+)$")
_TARGET = re.compile(r"^[-–•]?\s*(\d{1,2})\)\s+(.+)$")
_LETTERED = re.compile(r"^([a-zđ])\)\s+(.+)$")
_ITALIC_LABEL = re.compile(r"^[-*+•]?\s*\*{1,2}([^*]{2,80})\*{1,2}\s*:\s*(.*)$")
_STAR_LABEL = re.compile(r"^[*•]\s+([^:*]{2,60}):\s*(.*)$")
_BULLET_LABEL = re.compile(r"^[-+•]\s*([^:]{2,60}):\s*$")
_RUNIN_LABEL = re.compile(r"^([A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][^:.;!?]{1,45}):\s+(\S.*)$")
_BULLET = re.compile(r"^[-+•*]\s+")
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-ZĐÂĂÊÔƠƯ]")
_TERMINAL = tuple(".:;!?)\"”'")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_DOC_TYPES = "KẾ HOẠCH|BÁO CÁO|QUYẾT ĐỊNH|NGHỊ QUYẾT|TỜ TRÌNH|CHƯƠNG TRÌNH|THÔNG BÁO|CÔNG VĂN|KẾT LUẬN|CHỈ THỊ"
_STAMP = re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{4}\s+\d{1,2}:\d{2}")
_PERSON = re.compile(r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]+(?:\s+[A-ZĐÀ-Ỹ][a-zà-ỹđ]+){1,4}")


@dataclass
class Figure:
    """A number as the document writes it, with its unit and what it measures."""

    raw: str
    unit: str
    subject: str


@dataclass
class Target:
    """One of the year's numbered targets ("1) Tổng sản lượng lương thực có hạt 1.105 tấn")."""

    number: int
    field: str
    text: str
    figures: list[Figure]


@dataclass(slots=True)
class Passage:
    """A paragraph that can answer a question, with everything needed to say where it comes from."""

    key: str
    kind: str  # body | footnote | target | meta
    text: str
    section: str  # "Mục 1.4. Thu, chi ngân sách"
    path: list[str]  # ["Phần I", "I", "1. Về kinh tế", "1.4. Thu, chi ngân sách"]
    titles: list[str] = field(default_factory=list)  # every enclosing heading in full, for matching
    context: list[str] = field(default_factory=list)  # leads and labels in force ("- Trường THCS:")
    label: str = ""  # the run-in label this paragraph sits under ("Trường Tiểu học"): its subject
    footnotes: dict[int, str] = field(default_factory=dict)  # footnotes this passage cites
    footnote_number: int | None = None  # for kind == footnote: which one
    cited_by: str | None = None  # for kind == footnote: the citing passage's key
    year: int | None = None
    stance: str = "result"  # result (what was done) | plan (targets, tasks) | basis | meta
    target: int | None = None
    doc: str = ""


@dataclass
class Document:
    """A parsed plan."""

    name: str
    title: str
    meta: dict[str, str]
    sections: list[str]
    passages: list[Passage]
    targets: list[Target]
    footnotes_found: int
    footnotes_attached: int
    repaired: int = 0  # words a PDF glued or letter-spaced, put right when parsed (not kept in the database)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Section:
    kind: str
    number: str
    title: str
    level: int
    parent: _Section | None
    year: int | None = None
    stance: str | None = None

    def chain(self) -> list[_Section]:
        out: list[_Section] = []
        node: _Section | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    @property
    def crumb(self) -> str:
        if self.kind == "part":
            return f"Phần {self.number}"
        if self.kind == "roman":
            return self.number
        if self.kind == "number":
            return f"{self.number}. {self.title}"
        return self.title

    @property
    def label(self) -> str:
        if self.kind == "number":
            return f"Mục {self.number}. {self.title}"
        if self.kind == "part":
            return f"Phần {self.number}. {_sentence_case(self.title)}" if self.title else f"Phần {self.number}"
        if self.kind == "roman":
            return f"{self.number}. {_sentence_case(self.title)}"
        return self.title


def _sentence_case(title: str) -> str:
    """'NHỮNG THÀNH TỰU CHỦ YẾU' → 'Những thành tựu chủ yếu' (titles written in capitals)."""
    if title.isupper():
        return title[:1] + title[1:].lower()
    return title


def _runin(text: str) -> str:
    """The run-in label a paragraph opens with ("Trường tiểu học: Hỗ trợ…" → "Trường tiểu học")."""
    m = _RUNIN_LABEL.match(clean_inline(text))
    return m.group(1).strip() if m else ""


def _label_text(label: str | None) -> str:
    """"- Trường Tiểu học:" → "Trường Tiểu học"."""
    return clean_inline(label or "").lstrip("-+•* ").rstrip(": ")


def clean_inline(text: str) -> str:
    """Drop Markdown emphasis and footnote markers, for display and matching."""
    text = text.replace("**", "").replace("*", "")
    text = _MARKER.sub("", text)
    return " ".join(text.split())


def markers(text: str) -> list[int]:
    """Footnote numbers cited in ``text``."""
    return [int(superscript_digits(m.group(0))) for m in _MARKER.finditer(text)]


def _finished(text: str) -> bool:
    stripped = _MARKER.sub("", text).rstrip().rstrip("*")
    return stripped.endswith(_TERMINAL)


def _year_in(text: str) -> int | None:
    years = re.findall(r"\b(20\d{2})\b", text)
    return int(years[-1]) if years else None


def _stance_of(title: str) -> str | None:
    f = fold(title)
    if any(w in f for w in ("danh gia", "ket qua", "tinh hinh thuc hien", "thanh tuu", "han che")):
        return "result"
    if any(w in f for w in ("muc tieu", "phuong huong", "nhiem vu", "giai phap", "chi tieu", "du bao")):
        return "plan"
    return None


class _Reader:
    """One pass over the lines; see the module docstring for the layout rules it follows."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.meta: dict[str, str] = {}
        self.title = ""
        self.sections: list[_Section] = []
        self.current: _Section | None = None
        self.root = _Section("preamble", "", "Phần mở đầu", 0, None, stance="basis")
        self.passages: list[Passage] = []
        self.footnote_paras: dict[int, list[str]] = {}
        self.footnote_context: dict[int, list[list[str]]] = {}
        self.footnote_label: dict[int, list[str | None]] = {}
        self.footnote_anchor: dict[int, Passage] = {}
        self.targets: list[Target] = []
        # Leads ("… như sau:") in force, each with the label it was written under: a lead written inside
        # one item of a list ("- Trường Tiểu học:" … "Trường THCS … kết quả năm học 2022 – 2023 như sau:")
        # ends when the next item's label comes, and the list's own lead applies again.
        self.leads: list[tuple[str, str | None]] = []
        self.label: str | None = None
        # Open things a page break may have split.
        self.open_body: Passage | None = None
        self.open_note: int | None = None
        self.note_mode: str | None = None  # None | "list" | "parallel"
        self.note_first: str = ""
        self.note_lead: str | None = None
        self.note_label: str | None = None

    @property
    def lead(self) -> str | None:
        return self.leads[-1][0] if self.leads else None

    def _set_label(self, label: str | None) -> None:
        while self.leads and self.leads[-1][1] is not None:
            self.leads.pop()
        self.label = label

    # -- sections --------------------------------------------------------------------------------
    def _open_section(self, kind: str, number: str, title: str, level: int) -> None:
        parent = self.current
        while parent is not None and parent.level >= level:
            parent = parent.parent
        sec = _Section(kind, number, title, level, parent)
        inherited = next((s for s in reversed(sec.chain()[:-1]) if s.year), None)
        sec.year = _year_in(title) or (inherited.year if inherited else None)
        stance = _stance_of(title)
        if stance is None:
            stance = next((s.stance for s in reversed(sec.chain()[:-1]) if s.stance), None)
        sec.stance = stance
        self.sections.append(sec)
        self.current = sec
        self.leads = []
        self.label = None
        self.open_body = None
        self._close_note()

    def _close_note(self) -> None:
        self.note_mode = None
        self.note_lead = self.note_label = None

    # -- passages --------------------------------------------------------------------------------
    def _add(self, raw: str, kind: str = "body", target: int | None = None) -> Passage:
        sec = self.current or self.root
        context = [c for c in (self.lead, self.label) if c]
        label = self.label or (_runin(raw) if kind == "body" else None)
        p = Passage(
            key=f"{self.name}#p{len(self.passages) + 1}",
            kind=kind,
            text=raw,
            section=sec.label,
            path=[s.crumb for s in sec.chain()],
            titles=[s.title for s in sec.chain() if s.title],
            context=context,
            label=_label_text(label),
            year=sec.year,
            stance=sec.stance or "result",
            target=target,
            doc=self.name,
        )
        self.passages.append(p)
        self.open_body = None if _finished(raw) else p
        return p

    def _note_start(self, number: int, text: str) -> None:
        if self.passages:  # where it stands: the paragraph it follows, if no paragraph cites it by its mark
            self.footnote_anchor.setdefault(number, self.passages[-1])
        self.footnote_paras[number] = [text]
        self.footnote_context[number] = [[]]
        self.footnote_label[number] = [None]
        self.open_note = number
        self.note_first = text
        self.note_lead = text if _finished(text) and text.rstrip().endswith(":") else None
        self.note_label = None
        self.note_mode = "list" if text.rstrip().endswith(":") else "parallel"

    def _note_append(self, text: str, join: bool = False) -> None:
        n = self.open_note
        assert n is not None
        paras = self.footnote_paras[n]
        if join:
            paras[-1] = paras[-1].rstrip() + " " + text
            return
        bullet_label = _BULLET_LABEL.match(text)
        if bullet_label:
            self.note_label = text
        paras.append(text)
        self.footnote_context[n].append([c for c in (self.note_lead, self.note_label) if c and c != text])
        self.footnote_label[n].append(self.note_label if self.note_label != text else None)

    def _belongs_to_note(self, line: str) -> bool:
        """Does a line after a footnote continue it, or does the body resume?"""
        if self.note_mode is None or self.open_note is None:
            return False
        if markers(line):  # footnotes do not cite footnotes: a citing line is body
            return False
        if self.note_mode == "list":
            return True
        first = self.note_first
        has_bullet = bool(_BULLET.match(line))
        if has_bullet != bool(_BULLET.match(first)):
            return False
        a = fold(clean_inline(line)).split()[:1]
        b = fold(clean_inline(first)).split()[:1]
        return bool(a) and a == b

    # -- the pass --------------------------------------------------------------------------------
    def read(self, text: str) -> None:
        lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        lines = [ln for ln in lines if ln]
        body_started = False
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not body_started:
                if self._header_line(line):
                    continue
                body_started = True
            if re.match(r"^Nơi nhận\s*:", line, re.IGNORECASE) or re.match(r"^\**\s*(TM|KT|TL)\.\s", line):
                self._signature(lines[i - 1 :])
                break
            part = _PART.match(line)
            if part:
                title = part.group(2).strip()
                if not title and i < len(lines) and lines[i].isupper():
                    title = lines[i]
                    i += 1
                self._open_section("part", part.group(1), clean_inline(title), 1)
                continue
            note = _FOOTNOTE_START.match(line)
            if note:
                self._note_start(int(superscript_digits(note.group(1))), note.group(2).strip())
                continue
            starts_lower = line[:1].islower()
            if starts_lower:
                if self.open_note is not None and not _finished(self.footnote_paras[self.open_note][-1]):
                    self._note_append(line, join=True)
                    continue
                if self.open_body is not None:
                    self.open_body.text = self.open_body.text.rstrip() + " " + line
                    if _finished(line):
                        self.open_body = None
                    continue
            roman = _ROMAN.match(line)
            if roman and roman.group(2)[:1].isupper():
                self._open_section("roman", roman.group(1), clean_inline(roman.group(2)), 2)
                continue
            numbered = _NUMBERED.match(line)
            if numbered and not _TARGET.match(line):
                self._numbered(numbered.group(1), numbered.group(2))
                continue
            if self._belongs_to_note(line):
                self._note_append(line)
                continue
            self._close_note()  # body resumes; an unfinished footnote stays open for its page-split rest
            self._body_line(line)

    def _header_line(self, line: str) -> bool:
        if not re.search(r"[^\W\d_]", line):  # "*", "-----": the header's rules and stars
            return True
        number = re.match(r"^Số\s*[:.]?\s*(\S*(?:[-/]\S*)?)\s*$", line)
        if number and ("-" in line or "/" in line or ":" in line):
            self.meta["number"] = number.group(1).strip()
            return True
        if re.search(r",\s*ngày\b.*\bnăm\b", clean_inline(line)) and len(line) < 90:
            self.meta["place_date"] = clean_inline(line)
            return True
        if re.match(rf"^({_DOC_TYPES})\b", line):
            self.title = clean_inline(line)
            self.meta["title"] = self.title
            self._title_open = self.title.isupper() and len(self.title.split()) <= 3  # "BÁO CÁO", then its subject
            return True
        if getattr(self, "_title_open", False):
            # The subject of a bare "BÁO CÁO" title, on the lines below it, until the first sentence.
            if len(line) < 120 and not line.rstrip().endswith((".", ":", ";")) and not _NUMBERED.match(line) \
                    and not _ROMAN.match(line) and not re.match(r"^(Căn cứ|Thực hiện|Để )", line):
                self.title = f"{self.title} {clean_inline(line)}"
                self.meta["title"] = self.title
                return True
            self._title_open = False
        if line.isupper() or re.match(r"^(Độc lập|CỘNG HÒA)", line):
            key = "issuer" if "issuer" not in self.meta and re.match(r"(ỦY|UỶ) BAN|UBND", line.upper()) else "header"
            self.meta.setdefault(key, clean_inline(line))
            return True
        if not self.title and not self.passages:
            # A title written as a sentence's subject, as republished documents often open: "Nghị quyết số
            # 05-NQ/ĐU ngày 26 tháng 12 năm 2025 của Ban Chấp hành … về phương hướng, nhiệm vụ năm 2026".
            m = re.match(rf"^(?:{_DOC_TYPES.title()}|{_DOC_TYPES})\b", line, re.IGNORECASE)
            if m and len(line) < 300 and not line.rstrip().endswith("."):
                self.title = clean_inline(line)
                self.meta["title"] = self.title
                if (num := re.search(r"\bsố\s+(\S+[-/]\S+)", line)) and "number" not in self.meta:
                    self.meta["number"] = num.group(1).rstrip(",")
                if (date := re.search(r"\bngày\s+\d{1,2}(?:/\d{1,2}/\d{4}| tháng \d{1,2} năm \d{4})", line)):
                    self.meta.setdefault("place_date", date.group(0))
                return True
        return False

    def _signature(self, rest: list[str]) -> None:
        recipients: list[str] = []
        signer_lines: list[str] = []
        for line in rest:
            if re.match(r"^Nơi nhận", line, re.IGNORECASE) or re.fullmatch(r"(Trang|Page)?\s*\d+(\s*/\s*\d+)?", line):
                continue
            if _STAMP.search(line):
                continue  # a digital signature's time stamp ("04-03-2026 10:05:51 +07:00"), not a person
            if _BULLET.match(line):
                recipients.append(_BULLET.sub("", line).rstrip(";.,").strip())
            else:
                signer_lines.append(clean_inline(line))
        if recipients:
            self.meta["recipients"] = "; ".join(recipients)
        if signer_lines:
            # The signer is a person's name (words in title case); the lines in capitals say for whom and as what.
            names = [ln for ln in signer_lines if _PERSON.fullmatch(ln)]
            signer = names[-1] if names else signer_lines[-1]
            self.meta["signer"] = signer
            position = " ".join(ln for ln in signer_lines if ln != signer)
            if position:
                self.meta["signer_position"] = position

    def _numbered(self, number: str, rest: str) -> None:
        level = 3 + number.count(".")
        rest_clean = rest.strip()
        title, body = rest_clean, ""
        m = re.match(r"^\*?([^:*]{2,90}?)\*?\s*:\s*(.*)$", rest_clean)
        if m and not _SENTENCE_BREAK.search(m.group(1)):
            title, body = m.group(1).strip(), m.group(2).strip()
        elif len(rest_clean) > 160 or _SENTENCE_BREAK.search(rest_clean):
            words = clean_inline(rest_clean).split()
            title = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
            body = rest_clean
        self._open_section("number", number, clean_inline(title).rstrip("."), level)
        if body:
            self._body_line(body)

    def _body_line(self, line: str) -> None:
        sec = self.current
        target = _TARGET.match(line)
        if target and sec is not None and any("chi tieu" in fold(s.title) for s in sec.chain()):
            number, text = int(target.group(1)), target.group(2).strip()
            self.label = None
            self._add(text, kind="target", target=number)
            field_title = sec.title
            clean = clean_inline(text)
            self.targets.append(Target(number, field_title, clean.rstrip(";. "), _figures(clean)))
            return
        lettered = _LETTERED.match(line)
        if lettered:
            line = lettered.group(2)
        italic = _ITALIC_LABEL.match(line) or _STAR_LABEL.match(line)
        if italic:
            self._set_label(clean_inline(italic.group(1)))
            if italic.group(2).strip():
                self._add(italic.group(2).strip())
            return
        if _BULLET_LABEL.match(line):
            self._set_label(clean_inline(line.lstrip("-+• ")))
            return
        if line.rstrip().endswith(":") and len(line) < 70 and not _BULLET.match(line):
            self._set_label(clean_inline(line))
            return
        text = _BULLET.sub("", line)
        passage = self._add(text)
        if text.rstrip().endswith(":"):
            self.leads.append((clean_inline(text), self.label))
            self.label = None
            passage.context = [c for c in passage.context if c != self.lead]

    # -- finishing -------------------------------------------------------------------------------
    def finish(self) -> tuple[int, int]:
        """Turn footnotes into passages next to the passage that cites them."""
        citing: dict[int, Passage] = {}
        for p in self.passages:
            for n in markers(p.text):
                citing.setdefault(n, p)
        attached = 0
        out: list[Passage] = []
        notes_by_citer: dict[str, list[int]] = {}
        for n in sorted(self.footnote_paras):
            # A footnote whose mark was lost (a PDF's text has no superscripts) still says something: it stays,
            # beside the paragraph it followed on the page, though not counted as attached.
            citer = citing.get(n) or self.footnote_anchor.get(n)
            if citer is not None:
                notes_by_citer.setdefault(citer.key, []).append(n)
        for p in self.passages:
            raw_text = p.text
            p.text = clean_inline(p.text)
            p.context = [clean_inline(c) for c in p.context]
            out.append(p)
            for n in notes_by_citer.get(p.key, []):
                paras = [clean_inline(x) for x in self.footnote_paras[n]]
                p.footnotes[n] = "\n".join(paras)
                attached += n in citing
                sentence = _citing_sentence(raw_text, n)
                for j, para in enumerate(paras):
                    if not para or _BULLET_LABEL.match(self.footnote_paras[n][j]):
                        continue
                    ctx = [sentence] + [clean_inline(c) for c in self.footnote_context[n][j]]
                    out.append(
                        Passage(
                            key=f"{p.key}-fn{n}-{j + 1}",
                            kind="footnote",
                            text=_BULLET.sub("", para),
                            section=p.section,
                            path=p.path,
                            titles=p.titles,
                            context=p.context + [c for c in ctx if c],
                            label=_label_text(self.footnote_label[n][j]) or _runin(para),
                            footnote_number=n,
                            cited_by=p.key,
                            year=p.year,
                            stance=p.stance,
                            doc=p.doc,
                        )
                    )
        self.passages = out
        return len(self.footnote_paras), attached


def _citing_sentence(raw: str, n: int) -> str:
    """The sentence that carries marker ``n``: the footnote's own context ("Tổng diện tích gieo trồng…")."""
    for sentence in re.split(r"(?<=[.!?;])\s+", raw):
        if n in markers(sentence):
            return clean_inline(sentence)
    return clean_inline(raw)


_UNIT_AFTER = re.compile(
    r"^\s*(%|tấn|tạ|kg|ha|m²|m2|m³|m|km|con|đồng|triệu đồng|tỷ đồng|hộ|người|thôn|tiêu chí|lượt|cây|lớp)(?!\w)",
    re.IGNORECASE,
)


def _figures(text: str) -> list[Figure]:
    """Numbers in a target, with the unit written after them and the words before them in their clause."""
    out: list[Figure] = []
    for clause in _clauses(text):
        for m in _NUMBER_RE.finditer(clause):
            raw = m.group(0)
            after = clause[m.end() :]
            unit_m = _UNIT_AFTER.match(after)
            unit = unit_m.group(1) if unit_m else ""
            if not unit and not re.search(r"\d/\d", clause[max(0, m.start() - 1) : m.end() + 2]):
                continue
            if unit_m is None and "/" in clause[m.end() : m.end() + 1]:
                # "19/19 tiêu chí": keep the fraction whole
                frac = re.match(r"/(\d+)\s*(\w[\w ]{0,12})?", clause[m.end() :])
                if frac:
                    raw = raw + "/" + frac.group(1)
                    unit = (frac.group(2) or "").strip()
            subject = clause[: m.start()].strip(" :-–()")
            subject = re.sub(r"\b(đạt|là|từ|trở lên|phấn đấu|phần đầu)\s*$", "", subject).strip(" :-–")
            out.append(Figure(raw=raw, unit=unit.strip(), subject=subject))
    return _dedupe_fractions(out)


def _clauses(text: str) -> list[str]:
    """Split at , and ; outside parentheses ("đàn gia súc (Trâu, Bò, Ngựa, Dê): 600 con" stays whole)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        if ch in ",;" and depth == 0 and not (i + 1 < len(text) and text[i + 1].isdigit()):
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _dedupe_fractions(figures: list[Figure]) -> list[Figure]:
    seen: set[str] = set()
    out = []
    for f in figures:
        if any(f.raw != s and s.startswith(f.raw + "/") for s in seen):
            continue
        seen.add(f.raw)
        out.append(f)
    return out


def _meta_passages(reader: _Reader) -> list[Passage]:
    """Who signed it and when: asked about, but answered from the header and signature, not the body."""
    meta = reader.meta
    out: list[Passage] = []
    common = {"section": META_SECTION, "path": [META_SECTION], "kind": "meta", "stance": "meta",
              "doc": reader.name}
    if "signer" in meta:
        position = meta.get("signer_position", "")
        text = f"{position}: {meta['signer']}" if position else meta["signer"]
        out.append(Passage(key=f"{reader.name}#signer", text=text, context=["Người ký văn bản", reader.title],
                           **common))
    if "place_date" in meta or "number" in meta:
        parts = [meta.get("title", ""), f"Số: {meta['number']}" if meta.get("number") else "",
                 meta.get("place_date", "")]
        out.append(Passage(key=f"{reader.name}#issued", text=". ".join(x for x in parts if x),
                           context=["Số, ngày ban hành văn bản"], **common))
    return out


def parse_text(text: str, name: str = "doc") -> Document:
    """Parse a plan given as text (the .txt/.md form: *italic*, **bold**, superscript footnote numbers).

    Text a PDF glued or letter-spaced ("hộnghèo", "U B N D") is put right first, whatever the file's format:
    a .txt is often what someone pasted from a PDF."""
    reader = _Reader(name)
    text, repaired = repair(text.lstrip("\ufeff"))  # NFC too: Word may save decomposed text
    reader.read(text)
    found, attached = reader.finish()
    passages = [p for p in reader.passages if p.text.strip()] + _meta_passages(reader)
    return Document(
        name=name,
        title=reader.title,
        meta=reader.meta,
        sections=[s.label for s in reader.sections],
        passages=passages,
        targets=reader.targets,
        footnotes_found=found,
        footnotes_attached=attached,
        repaired=repaired,
    )


def parse_file(path: str | Path, name: str | None = None) -> Document:
    """Parse a plan file (.txt or .md)."""
    p = Path(path)
    return parse_text(p.read_text(encoding="utf-8-sig"), name=name or p.stem)  # -sig: Notepad's BOM is not text
