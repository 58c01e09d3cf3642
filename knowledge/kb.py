"""The knowledge base as one service: built once at start-up, then asked questions.

It wires the one-way flow ``document → passages → index`` and ``question → normalise → index → answer``.
The parsed plan is cached in the database and rebuilt only when a source file's content (or the parser)
changes; the in-memory index is rebuilt from the cache at every start, which takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml.etree import XMLSyntaxError
from rapidfuzz import fuzz, process

from .answer import Reply, quote_for, source_of, what_of
from .decide import choose, evidence
from .document import META_SECTION, Document, Passage, parse_file, parse_text
from .docx import OpcError, docx_to_text
from .faq import FaqEntry, as_passage, load_faq, taught_entry
from .i18n import t
from .index import Hit, Index, Segment
from .intent import Intent
from .intent import understand as understand_intent
from .lexicon import DATA_DIR, Lexicon, Speller, load_yaml
from .metrics import LiveFigures, Progress, describe
from .pdftext import ScannedPdf, pdf_to_text
from .policy import Choice, Policy, Ranking, RouteSettings
from .procedures import SHARED_PATH, ProcedureCard, load_procedures
from .question import Query, analyze
from .rank import rank
from .store import PARSER_VERSION, Store, sha256_of
from .text import accent_key, fold, normalize, strip_marks, tokens

log = logging.getLogger(__name__)

DEFAULT_SOURCE = DATA_DIR / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"


@dataclass
class BuildReport:
    """What a build found, for `python bot.py build` and the logs."""

    documents: int
    sections: int
    passages: int
    footnotes_found: int
    footnotes_attached: int
    targets: int
    faq: int
    repaired: int  # words glued or letter-spaced by a PDF, put right (0 when nothing was rebuilt)
    rebuilt: bool
    ms: float


SOURCE_FORMATS = (".txt", ".md", ".docx", ".pdf")


def parse_source(path: Path, name: str | None = None) -> Document:
    """Read one plan file: .txt and .md as they are, .docx through its text (footnotes and tables included),
    .pdf through its text layer."""
    suffix = path.suffix.lower()
    if suffix not in SOURCE_FORMATS:
        raise UnsupportedSource(path)
    try:
        if suffix == ".docx":
            return parse_text(docx_to_text(path), name=name or path.stem)
        if suffix == ".pdf":
            return parse_text(pdf_to_text(path), name=name or path.stem)
        return parse_file(path, name)
    except ScannedPdf as err:
        raise UnreadableSource(path, scanned=True) from err
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, OpcError, XMLSyntaxError) as err:
        # a damaged file, not a bug
        raise UnreadableSource(path) from err


class UnsupportedSource(ValueError):
    """A source file in a format the reader does not know."""


class UnreadableSource(Exception):
    """A source file that cannot be read (damaged, not what its name says)."""

    def __init__(self, path: Path, scanned: bool = False) -> None:
        super().__init__(str(path))
        self.path = path
        self.scanned = scanned  # a PDF of page images: it needs OCR before the bot can read it


def source_names(sources: list[Path]) -> list[str]:
    """A distinct name per source: its file name, with its folder when two files share one."""
    stems = [s.stem for s in sources]
    out: list[str] = []
    for s in sources:
        name = s.stem if stems.count(s.stem) == 1 else f"{s.parent.name}-{s.stem}"
        while name in out:
            name += "-2"
        out.append(name)
    return out


class KnowledgeBase:
    """Documents, curated answers, the index and the answering rules."""

    def __init__(self, documents: list[Document], lexicon: Lexicon, faq: list[FaqEntry],
                 policy: Policy | None = None, cards: list[ProcedureCard] | None = None,
                 commune: dict | None = None, data_dir: Path = DATA_DIR) -> None:
        self.documents = documents
        self.policy = policy  # the fitted last word on answering (data/policy.yaml); None: the rules alone
        self.cards = cards or []  # procedure cards (data/procedures.yaml and the commune's own)
        # The commune's configuration (commune.yaml: its office, its contacts), when it is the documents' commune:
        # another commune's plan loaded alone must not send its readers to this commune's office.
        self.commune = commune if commune and _is_about(documents, str(commune.get("name") or "")) else {}
        self.data_dir = data_dir
        self.contact_overrides: dict[str, str] = {}  # an admin's /lienhe values, read over commune.yaml's
        self.route = RouteSettings.load(data_dir)
        self.ranking = Ranking.load(data_dir)
        self.choice = Choice.load(data_dir)
        self.lexicon = lexicon
        self.yaml_faq = faq
        self.live: LiveFigures | None = None  # officials' logged figures, attached by whoever has the store
        # The years the titles name: the documents' own periods ("năm 2024"; "năm 2025 và … năm 2026").
        self.periods = {int(y) for d in documents for y in re.findall(r"\b(20\d\d)\b", d.title)}
        self.plan_year = max(self.periods) if self.periods else None
        self._doc_labels = {d.name: _short_title(d.title) for d in documents} if len(documents) > 1 else {}
        communes = {d.name: fold(m.group("name")) for d in documents if (m := _COMMUNE.search(d.title))}
        self._own_communes = set(communes.values())  # the communes whose plans are loaded
        self._places = _places_named(documents) - self._own_communes
        self._communes = communes if len(documents) > 1 else {}
        self._build(faq)

    def _build(self, faq: list[FaqEntry]) -> None:
        """The index over the documents and the curated answers (again when officials teach a new one)."""
        documents, lexicon = self.documents, self.lexicon
        self.faq = faq
        self.passages: dict[str, Passage] = {p.key: p for d in documents for p in d.passages}
        faq_passages = [as_passage(e) for e in faq]
        self.passages.update({p.key: p for p in faq_passages})
        self.passages.update({e.passage.key: e.passage for e in faq if e.passage and e.passage.kind == "taught"})
        identity = {accent_key(w) for d in documents for w in re.findall(r"[^\W\d_]+", d.title)}
        titles = {d.name: d.title for d in documents} if len(documents) > 1 else {}
        self.index = Index([p for d in documents for p in d.passages] + faq_passages, lexicon, identity, titles,
                           self.periods, self.ranking)
        accented = set(lexicon.known_accented)
        for p in self.passages.values():
            accented.update(re.findall(r"[^\W\d_]+", normalize(p.text)))
        self.speller = Speller(self.index.vocabulary, accented, self.index.bigrams, self.index.pairs,
                              lexicon.stopwords, self.index.count_run)
        # A curated question per passage, to offer as a suggestion that is known to be answerable.
        self._faq_by_passage = {e.passage.key: e for e in faq if e.passage is not None}
        # Every way a curated entry is asked finds it (a suggestion button may carry its English question).
        self.faq_by_question = {q: e for e in faq for q in reversed(e.questions)}
        # Its question as an English reply suggests it: the first English one it has, else its first.
        self._faq_english = {e.id: next((q for q in e.questions if lexicon.is_english(tokens(q))), e.questions[0])
                             for e in faq}
        self._faq_by_id = {e.id: e for e in faq}
        self._faq_folded = [fold(e.questions[0]) for e in faq]
        # A question asked exactly as a curated or taught one was written gets that answer, whatever the
        # scoring would make of it ("Xã có chợ không?": one common word; "mấy …?" answered "bốn").
        self._asked = {" ".join(tokens(q)): e for e in faq for q in e.questions}
        self._answerable_cache: dict[str, bool] = {}

    def teach(self, rows: list[dict]) -> None:
        """Take the answers officials taught (the store's curated rows) into the index, with the file's."""
        taught = [taught_entry(row, self.passages.get(row.get("passage_key") or "")) for row in rows]
        self._build(self.yaml_faq + taught)

    # -- building --------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        store: Store,
        sources: list[Path] | None = None,
        data_dir: Path = DATA_DIR,
        rebuild: bool = False,
    ) -> tuple[KnowledgeBase, BuildReport]:
        """Load from the database, rebuilding it first if a source changed (or when asked to)."""
        started = time.perf_counter()
        sources = [Path(s) for s in (sources or [DEFAULT_SOURCE])]
        for s in sources:
            if not s.exists():
                raise FileNotFoundError(str(s))
        names = source_names(sources)
        wanted = {name: sha256_of(s) for name, s in zip(names, sources)}
        wanted["__parser__"] = PARSER_VERSION
        rebuilt = rebuild or store.source_fingerprint() != wanted
        parsed: dict[str, int] = {}  # name → words repaired

        def parse(source: Path, name: str) -> Document:
            doc = parse_source(source, name)
            parsed[name] = doc.repaired
            return doc

        if rebuilt:  # one plan at a time, parsed and stored: a hundred parsed plans never sit in memory together
            store.replace_documents((parse(s, name), str(s), wanted[name]) for s, name in zip(sources, names))
        documents = store.load_documents()
        lexicon = Lexicon.load(data_dir, [d.name for d in documents])
        faq = load_faq(data_dir / "faq.yaml", [p for d in documents for p in d.passages])
        commune_cards = data_dir / "procedures.yaml" if data_dir.resolve() != DATA_DIR.resolve() else None
        kb = cls(documents, lexicon, faq, Policy.load(data_dir), load_procedures(SHARED_PATH, commune_cards),
                 load_yaml(data_dir / "commune.yaml") if (data_dir / "commune.yaml").exists() else {}, data_dir)
        kb.set_contacts(store.contacts())
        report = BuildReport(
            documents=len(documents),
            sections=sum(len(d.sections) for d in documents),
            passages=sum(len(d.passages) for d in documents),
            footnotes_found=sum(d.footnotes_found for d in documents),
            footnotes_attached=sum(d.footnotes_attached for d in documents),
            targets=sum(len(d.targets) for d in documents),
            faq=len(faq),
            repaired=sum(parsed.values()),
            rebuilt=rebuilt,
            ms=(time.perf_counter() - started) * 1000,
        )
        return kb, report

    # -- asking ----------------------------------------------------------------------------------
    def understand(self, question: str) -> Query:
        """The question read and weighed against this knowledge base (the reader, then the index's weights)."""
        return self.index.weigh(analyze(question, self.lexicon, self.speller, self.plan_year))

    def ask(self, question: str) -> Reply:
        """Answer one question; never raises on any text. When it cannot answer, it offers questions it can.

        First what the message is (``knowledge.intent``): a greeting or a request for a person gets its short
        reply, a procedure question its card; only a question for the plan goes on to retrieval."""
        english = self.lexicon.is_english(tokens(question))
        intent = understand_intent(question, self.cards, self.route, self.data_dir, self.lexicon.expand_abbreviations,
                                   english)
        if intent.kind == "act":
            return Reply(found=False, kind="handoff" if intent.handoff else "smalltalk", act=intent.act,
                         english=english)
        contact = self.contact_reply(question, intent.card if intent.kind == "procedure" else None, english)
        if contact is not None:  # "giờ làm việc của xã", "gặp ai để làm sổ đỏ": the office, not a plan quote
            return contact
        if intent.kind == "procedure":
            return self._procedure_reply(intent, english)
        question = intent.text
        reply, query, hits = self._decide(question)
        live = self.live.progress(question, query.years) if self.live is not None else None
        if live is not None:
            return self._live_reply(live, query)
        if not reply.found and reply.kind != "empty":
            reply.suggestions = self.suggest(query, hits)
            if reply.kind == "suggest" and not reply.suggestions:
                reply.kind = "unknown"
        return reply

    def _procedure_reply(self, intent: Intent, english: bool) -> Reply:
        """A procedure question: its card, or an honest "no card" with the contact; never the plan, whose
        sentences about a procedure are statistics of it ("cấp giấy xác nhận tình trạng hôn nhân 22 trường
        hợp"), curated ones included."""
        if intent.card is not None:
            return Reply(found=True, kind="procedure", card_id=intent.card.id, asks=intent.asks,
                         source=_card_source(intent.card), score=1.0, english=english)
        return Reply(found=False, kind="unknown", procedure=True, english=english)

    def card(self, card_id: str | None) -> ProcedureCard | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def _decide(self, question: str) -> tuple[Reply, Query, list[Hit]]:
        query = self.understand(question)
        if not any(t.strip("\x00") for t in query.tokens):  # nothing typed but spaces, emoji, punctuation
            return Reply(found=False, kind="empty", english=query.english), query, []
        if query.empty or all(slot.is_number for slot in query.slots):
            # Only words every question has ("kết quả đạt bao nhiêu?") or only numbers: nothing to look for.
            return Reply(found=False, kind="unknown", english=query.english), query, []
        if self._asks_beyond_the_plans(query):
            return Reply(found=False, kind="unknown", english=query.english), query, []
        entry = self._asked.get(" ".join(tokens(question)))
        curated = self.index.segments_of(f"faq:{entry.id}") if entry else None
        if curated:
            hit = Hit(curated[0], 1.0, 1.0, True, ["asked as curated"])
            return self._answer(hit, query, [hit]), query, [hit]
        own = self._about_the_document(query)
        if own is not None:  # "kế hoạch này số mấy", "ai ký báo cáo": its header or signature answers
            return self._answer(own, query, [own]), query, [own]
        hits = self._in_the_place_asked(query, rank(self.index, query, self.index.candidates(query)))
        named = self._named_documents(question)
        if named:  # "xã Cao Lâu …": only that plan answers, however well another plan's words fit
            hits = [h for h in hits if h.segment.passage.doc in named]
        chosen, decision = choose(hits, self.index.information(query), self.choice)
        if decision == "answer" and chosen is not None:
            reply = self._answer(chosen, query, hits)
            if self.policy is not None:
                reply.score = round(self.policy.probability(evidence(chosen, query, hits, self.index)), 3)
                if reply.score < self.policy.answer_min:  # the rules would answer; the odds say it is a guess
                    return Reply(found=False, kind="suggest", score=reply.score, english=query.english), query, hits
            return reply, query, hits
        score = chosen.score if chosen else (hits[0].score if hits else 0.0)
        if query.contact:  # a phone number or e-mail the documents do not give: who to ask, not look-alikes
            decision = "unknown"
        return Reply(found=False, kind="suggest" if decision == "suggest" else "unknown", score=round(score, 3),
                     english=query.english), query, hits

    def _answer(self, chosen: Hit, query: Query, hits: list[Hit]) -> Reply:
        seg = chosen.segment
        quoted = self.passages.get(seg.passage.cited_by or "") if seg.passage.kind == "faq" else seg.passage
        what, year = what_of(quoted or seg.passage, self.periods)  # a curated answer is what its quote is
        return Reply(
            what=what,
            year=year,
            found=True,
            kind="answer",
            quote=quote_for(chosen, self.index, query, hits),
            source=self._attributed(seg),
            score=round(chosen.score, 3),
            # The whole passage: for a footnote or a curated answer, the paragraph it belongs to
            # (its full view includes the footnotes).
            passage_key=seg.passage.cited_by if seg.passage.kind in ("faq", "footnote") else seg.passage.key,
            faq_id=seg.passage.key[4:] if seg.passage.kind == "faq" else None,
            # a curated answer says it in plain words first, as the browse menus do; its quote backs it
            plain=entry.answer if (entry := self._faq_by_id.get(seg.passage.key[4:])) and seg.passage.kind == "faq"
            and entry.answer != entry.quote else "",
            english=query.english,
        )

    def _live_reply(self, progress: Progress, query: Query) -> Reply:
        """A tracked figure, from the officials' log: the figure, when it was logged, and the target it counts
        towards (with the plan's section for the target)."""
        metric = progress.metric
        stamp = dt.datetime.fromtimestamp(progress.updated_at or 0, LOCAL_TZ).strftime("%d/%m/%Y")
        target = next((p for p in self.passages.values() if p.kind == "target" and p.target == metric.target_number),
                      None)
        section = f"{target.section}, chỉ tiêu {target.target}" if target else (metric.target_text or "")
        lang = "en" if query.english else "vi"
        return Reply(found=True, kind="answer", quote=t("live.answer", lang, progress=describe(progress), when=stamp),
                     source=t("live.source", lang, section=section), score=1.0,
                     passage_key=target.key if target else None, english=query.english)

    def _attributed(self, seg: Segment) -> str:
        """The section; with several documents loaded, which document too."""
        label = self._doc_labels.get(seg.passage.doc)
        return f"{label} — {source_of(seg)}" if label else source_of(seg)

    def _in_the_place_asked(self, query: Query, hits: list[Hit]) -> list[Hit]:
        """A village, school or commune the question names must be where the sentence is: a commune's total,
        or another village's share, does not answer "thôn Nà Thâm được bao nhiêu" (with or without diacritics).
        The places are the names the documents write after "thôn", "bản", "xã", "trường"…, minus the loaded
        documents' own commune, which every sentence is about."""
        folded = f" {fold(query.text)} "
        asked = [p for p in self._places if f" {p} " in folded]
        if not asked:
            return hits
        out = []
        for hit in hits:
            seg = hit.segment
            said = f" {fold(' '.join([seg.sentence, *seg.passage.titles, *seg.passage.context]))} "
            if hit.fits and not all(f" {p} " in said for p in asked):
                hit = replace(hit, fits=False, reasons=[*hit.reasons, "place"])
            out.append(hit)
        return out

    def _about_the_document(self, query: Query) -> Hit | None:
        """A question about the document itself — its number, its date, who signed it — names the document
        ("kế hoạch này", "nghị quyết", "this report") and asks one of those; its header or signature answers,
        not a sentence of its body that mentions another resolution's number. With several documents loaded,
        only when the question names one kind that a single document is."""
        folded = fold(query.text)
        if query.english:  # "the report", "this resolution": the kind of document, in the documents' words
            folded = _DOC_KINDS_EN.sub(lambda m: _KIND_OF_EN[m.group(1)], folded)
        # "ký" (signed), not the "kỳ" of "nhiệm kỳ", "học kỳ": with diacritics as typed, else not after those
        marked = normalize(query.text) != fold(query.text)
        signer = bool(re.search(r"\bký\b|\bsigned\b|\bsigner\b", normalize(query.text)) if marked else
                      re.search(r"(?<!nhiem )(?<!hoc )(?<!dinh )(?<!thoi )\bk[iy]\b|\bsigned\b|\bsigner\b", folded))
        if not (signer or query.identifier or "when" in query.types or re.search(r"\bso hieu\b", folded)):
            return None
        if re.search(r"\d+[-/]\w|\bcan cu\b", folded):
            return None  # "nghị quyết số 01-NQ/TU …", "căn cứ quyết định nào": another document
        kinds = "|".join(_DOC_KINDS)
        named = re.search(rf"\b({kinds})(?: (?:nay|do))?\b", folded)  # the first kind of document it names
        this = re.search(rf"\b(?:(?:{kinds}|van ban) nay|this (?:{kinds}|document))\b", folded)
        if not (this or (named and signer)):  # "kế hoạch này số mấy", "ai ký báo cáo"
            return None
        mine = [d for d in self.documents if (named and named.group(1) == _doc_kind(d.title)) or
                (this and this.group(0).startswith(("van ban", "this")))]
        if len(mine) != 1:
            return None
        if not signer and query.identifier and not re.search(r"\d", mine[0].meta.get("number", "")):
            return None  # "Số: /KH-UBND": the number was left blank, and nothing else says it
        key = f"{mine[0].name}#{'signer' if signer else 'issued'}"
        segments = self.index.segments_of(key)
        return Hit(segments[0], 1.0, 1.0, True, ["about the document"]) if segments else None

    def _named_documents(self, question: str) -> set[str]:
        """The loaded plans whose commune the question names (with or without diacritics)."""
        folded = fold(question)
        return {doc for doc, commune in self._communes.items() if re.search(rf"\b{re.escape(commune)}\b", folded)}

    def _asks_beyond_the_plans(self, query: Query) -> bool:
        """Questions about something the plans do not cover, however many words they share with a sentence:
        - a place no document mentions ("Xã Thụy Hùng có bao nhiêu hộ nghèo?");
        - another commune, even a neighbour a plan mentions ("thu ngân sách của xã Xuất Lễ");
        - a name no plan writes ("người dân tộc Tày");
        - a thing no plan names, asked about by name ("Email của UBND xã …")."""
        if any(accent_key(w) not in self.index.accents for place in query.places for w in place.split()):
            return True
        if self._own_communes and any(fold(c) not in self._own_communes for c in query.communes):
            return True
        return query.unknown_owned or any(not self._knows_name(name) for name in query.names)

    def _knows_name(self, word: str) -> bool:
        """A name the knowledge base writes: with its diacritics when typed with them, else in any spelling,
        or a typo of one of its words ("Quý Mãoo")."""
        if strip_marks(word) == word:
            known = fold(word) in self.index.idf or fold(word) in self.index.ctx_postings
        else:
            known = accent_key(word) in self.index.accents
        return known or self.speller.repair(word) is not None

    def suggest(self, query: Query, hits: list[Hit], limit: int = 3) -> list[str]:
        """Up to ``limit`` curated questions near this one, each checked to be answerable: first those whose
        passage scored, then the curated questions most like it."""
        def asked(entry: FaqEntry) -> str:  # in the asker's language where the entry has it
            return self._faq_english[entry.id] if query.english else entry.questions[0]

        candidates: list[str] = []
        for hit in hits:
            p = hit.segment.passage
            entry = self._faq_by_id.get(p.key[4:]) if p.kind == "faq" else (
                self._faq_by_passage.get(p.key) or self._faq_by_passage.get(p.cited_by or ""))
            question = asked(entry) if entry else None
            if question and question not in candidates:
                candidates.append(question)
        folded = fold(query.text)
        if folded.strip():
            ranked = process.extract(folded, self._faq_folded, scorer=fuzz.token_set_ratio, limit=8,
                                     score_cutoff=55)
            candidates.extend(asked(self.faq[i]) for _, _, i in ranked)
        out: list[str] = []
        for question in candidates[: limit * 2]:  # each check is a whole answer: a bounded few
            if question not in out and fold(question) != folded and self._answerable(question):
                out.append(question)
            if len(out) >= limit:
                break
        return out

    def _answerable(self, question: str) -> bool:
        if question not in self._answerable_cache:
            self._answerable_cache[question] = self._decide(question)[0].found
        return self._answerable_cache[question]

    def passage(self, key: str) -> Passage | None:
        return self.passages.get(key)

    def faq_entry(self, entry_id: str) -> FaqEntry | None:
        return self._faq_by_id.get(entry_id)

    def faq_topics(self, kind: str) -> list[tuple[str, list[FaqEntry]]]:
        """Curated entries of one kind (subsidy, procedure) by topic, in the order the file lists them."""
        topics: dict[str, list[FaqEntry]] = {}
        for entry in self.faq:
            if entry.kind == kind:
                topics.setdefault(entry.topic or "…", []).append(entry)
        return list(topics.items())

    def targets_by_field(self) -> list[tuple[str, list]]:
        """The plans' numbered targets, grouped by field ("Lĩnh vực kinh tế", …)."""
        groups: dict[str, list] = {}
        for doc in self.documents:
            for target in doc.targets:
                groups.setdefault(target.field, []).append(target)
        return list(groups.items())

    def stats(self) -> dict[str, object]:
        """What the knowledge base holds, for the greeting."""
        commune = next((m.group(1) for d in self.documents if (m := _COMMUNE.search(d.title))), "")
        return {
            "commune": commune,
            "documents": len(self.documents),
            "sections": sum(len(d.sections) for d in self.documents),
            "passages": sum(len(d.passages) for d in self.documents),
            "targets": sum(len(d.targets) for d in self.documents),
        }

    # -- rendering -------------------------------------------------------------------------------
    def render(self, reply: Reply, lang: str | None = None) -> str:
        """The reply as plain text, in the asker's language (quotes stay as the document wrote them)."""
        lang = lang or ("en" if reply.english else "vi")
        if reply.kind == "answer":
            quote = f"{reply.plain}\n«{reply.quote}»" if reply.plain else reply.quote
            return f"{quote}\n({answer_label(reply, lang)})"
        if reply.kind == "procedure" and (card := self.card(reply.card_id)) is not None:
            return f"{render_card(card, reply.asks, lang)}\n({t('answer.source', lang, source=reply.source)})"
        if reply.kind == "contact":
            return self.contact_answer(reply, lang)
        if reply.kind in ("smalltalk", "handoff"):
            return self.act_text(reply, lang)
        if reply.procedure:
            return f"{t('answer.procedure_unknown', lang)}\n{self.contact(lang)}"
        if reply.kind == "empty":
            return t("answer.empty", lang)
        lines = [t("answer.suggest", lang) if reply.kind == "suggest" else t("answer.unknown", lang)]
        if reply.suggestions:
            if reply.kind != "suggest":
                lines.append(t("answer.unknown_try", lang))
            lines.extend(f"• {s}" for s in reply.suggestions)
        if reply.kind != "suggest":
            lines.append(self.contact(lang))
        return "\n".join(lines)

    def contact(self, lang: str) -> str:
        """Who to ask instead: the office the commune's configuration names, with what it has configured."""
        office = self.commune.get("office") or t("contact.office_default", lang)
        details = [t(f"contact.{k}", lang, value=value) for k in OFFICE_KEYS if (value := self.contact_value(k))]
        if not details:
            details = [t("contact.not_configured", lang)]
        return t("contact.line", lang, office=office, details="; ".join(details))

    def set_contacts(self, overrides: dict[str, str]) -> None:
        """The contacts an admin set by chat (the store's), each read over the configuration file's."""
        self.contact_overrides = {k: v for k, v in overrides.items() if k in CONTACT_KEYS}

    def contact_value(self, key: str) -> str:
        """One contact detail ("" when nobody configured it): an admin's value, else commune.yaml's."""
        value = self.contact_overrides.get(key)
        if value is None:
            value = self.commune.get(key)
        return "" if value is None else str(value).strip()

    def contact_reply(self, question: str, card: ProcedureCard | None, english: bool) -> Reply | None:
        """A question for the office's own details — its phone, e-mail, hours, address, or whom to see — gets
        them from the configuration (found only when what was asked is configured); None for any other.

        A procedure whose card matched keeps its card for "where": the card says where to submit."""
        folded = " " + re.sub(r"[^a-z0-9]+", " ", fold(question)) + " "
        if _ELSEWHERE.search(folded):  # the province's hotline, a website: the documents may say, not the office
            return None
        asks = [kind for kind, pattern in _CONTACT_ASKS.items() if pattern.search(folded)]
        office = bool(_OFFICE.search(folded))
        asks = [kind for kind in asks if (kind not in ("hours", "address") or office)
                and not (kind in ("hours", "address", "email") and _COUNTED.search(folded))]
        if card is not None and "address" in asks:
            asks.remove("address")
        if not asks:
            return None
        role = _TOPIC_ROLES.get(card.topic or "") if card is not None else None
        role = role or next((r for r, pattern in _ROLE_WORDS.items() if pattern.search(folded)), None)
        if role and ("who" in asks or "phone" in asks):
            asks.append(role)
        keys = self._contact_keys(tuple(asks))
        found = any(self.contact_value(k) for k in keys)
        return Reply(found=found, kind="contact", asks=tuple(asks), card_id=card.id if card else None,
                     source="commune.yaml" if found else None, score=1.0 if found else 0.0, english=english)

    @staticmethod
    def _contact_keys(asks: tuple[str, ...]) -> list[str]:
        """The configuration keys that answer what was asked: "who" is the person of the field asked about,
        else the Một cửa desk."""
        roles = [a for a in asks if a in ROLE_KEYS]
        keys = [a for a in asks if a in OFFICE_KEYS]
        if "who" in asks:
            keys += roles or ["one_stop"]
        elif roles:
            keys += roles
        return list(dict.fromkeys(keys))

    def contact_answer(self, reply: Reply, lang: str) -> str:
        """The details asked for that are configured, an honest "not configured" for the others, the office."""
        keys = self._contact_keys(reply.asks)
        office = self.commune.get("office") or t("contact.office_default", lang)
        known = [t(f"contact.{k}", lang, value=value) for k in keys if (value := self.contact_value(k))]
        missing = [t(f"contact.name.{k}", lang) for k in keys if not self.contact_value(k)]
        lines = [t("contact.answer", lang, office=office, details="; ".join(known))] if known else []
        if missing:
            lines.append(t("contact.missing", lang, what=", ".join(missing)))
            lines.append(self.contact(lang))
        return "\n".join(lines)

    def act_text(self, reply: Reply, lang: str) -> str:
        """The short reply to a conversation act; a request for a person or a complaint gets the contact."""
        commune = self.stats()["commune"] or t("contact.commune_default", lang)
        text = t(f"act.{reply.act}", lang, commune=commune)
        return f"{text}\n{self.contact(lang)}" if reply.kind == "handoff" else text

    def full_passage(self, key: str, lang: str = "vi") -> str | None:
        """The whole passage with its footnotes: what the "Xem đầy đủ" button shows."""
        p = self.passages.get(key)
        while p is not None and p.kind in ("footnote", "faq") and p.cited_by in self.passages:
            p = self.passages[p.cited_by]  # a footnote is shown with the paragraph that cites it
        if p is None:
            return None
        lines = [t("answer.full_title", lang, source=p.section), p.text]
        for number, text in sorted(p.footnotes.items()):
            lines.append(t("answer.footnote", lang, number=number, text=text))
        return "\n".join(lines)


# The commune's contacts (commune.yaml, or an admin's /lienhe): the office's own, then who handles what.
OFFICE_KEYS = ("phone", "email", "hours", "address", "one_stop")
ROLE_KEYS = ("land", "justice", "culture", "police")
CONTACT_KEYS = OFFICE_KEYS + ROLE_KEYS

# What a question asks of the office, over its folded words (a space at each end). "hours" and "address" only
# with the office named; "ở đâu" alone is a procedure's "where to submit".
_CONTACT_ASKS = {
    "phone": re.compile(r" (so dien thoai|sdt|so dt|hotline|duong day nong|phone number|telephone|phone|"
                        r"dien thoai (?!thong minh)(cua|lien he|xa|ubnd|mot cua|cong an|can bo|de|la|so))"),
    "email": re.compile(r" (email|e mail|thu dien tu|dia chi mail|mail) "),
    "hours": re.compile(r" (gio lam viec|gio hanh chinh|gio mo cua|mo cua(?! khau)|may gio|gio nao|lam viec luc|"
                        r"lam viec tu|opening hours|working hours|office hours|what time|open) "),
    "address": re.compile(r" ((ubnd|uy ban( nhan dan)?|tru so|van phong|bo phan mot cua|mot cua)( xa)?( [a-z]+){0,2}"
                          r" (nam )?(o dau|cho nao|o cho nao)|dia chi (cua )?(ubnd|uy ban|xa|tru so|mot cua|"
                          r"van phong)|where is the|address of the) "),
    "who": re.compile(r" (gap ai|hoi ai|lien he ai|lien he voi ai|bao ai|bao cho ai|tim ai|ai phu trach|ai giai quyet|"
                      r"can bo nao|who do i|who should i|who can i|whom) "),
}
_OFFICE = re.compile(r" (xa|ubnd|uy ban|tru so|van phong|mot cua|bo phan|office|commune|one stop|committee) ")
_ELSEWHERE = re.compile(r" (tinh|huyen|province|provincial|district|trang web|website|dia chi trang|web) ")
_COUNTED = re.compile(r" (bao nhieu|ty le|how many|how much) ")
# Who handles what: by the matched card's topic, else by the words of the question.
_TOPIC_ROLES = {"hộ tịch": "justice", "chứng thực": "justice", "đất đai": "land", "xã hội": "culture",
                "y tế": "culture", "cư trú": "police"}
_ROLE_WORDS = {
    "police": re.compile(r" (cong an|cu tru|thuong tru|tam tru|can cuoc|cccd|an ninh|police) "),
    "land": re.compile(r" (so do|so hong|dat dai|thua dat|dia chinh|quyen su dung dat|xay dung|land) "),
    "justice": re.compile(r" (khai sinh|khai tu|ket hon|ho tich|chung thuc|tu phap|birth|marriage) "),
    "culture": re.compile(r" (tro cap|bao tro|ho ngheo|can ngheo|bhyt|bao hiem y te|nguoi co cong|mai tang|"
                          r"van hoa|khuyet tat|nguoi cao tuoi) "),
}


def answer_label(reply: Reply, lang: str) -> str:
    """What an answer is and where it comes from: "Kết quả năm 2023 · Nguồn: Mục 2.4. …"."""
    said = t("answer.document_details", lang) if reply.source == META_SECTION else reply.source
    source = t("answer.source", lang, source=said)
    if reply.what is None:
        return source
    what = t(f"what.{reply.what}" + ("" if reply.year else "_any"), lang, year=reply.year)
    return f"{what} · {source}"


def _is_about(documents: list[Document], commune: str) -> bool:
    """Do the documents name this commune ("xã Cao Lâu": "Cao Lâu" in a title, a header or the text)?"""
    name = fold(re.sub(r"^(?:xã|phường|thị trấn)\s+", "", commune.strip(), flags=re.IGNORECASE))
    if not name:
        return True  # a configuration without a name is nobody else's either
    return any(name in fold(" ".join([d.title, *d.meta.values()])) or any(name in fold(p.text) for p in d.passages)
               for d in documents)


def _card_source(card: ProcedureCard) -> str:
    """A card's source: the first document of its legal basis ("Luật Hộ tịch số 60/2014/QH13 …")."""
    return card.legal_basis[0]


def render_card(card: ProcedureCard, asks: tuple[str, ...], lang: str, whole: bool = False) -> str:
    """A procedure card: what was asked (where, papers, time, fee; where and papers when nothing in
    particular), each cut short, or the whole card (``whole``) for the "Xem đầy đủ" view."""
    title = card.english.title if lang == "en" else card.title
    papers = "; ".join(p.rstrip(". ") for p in card.papers)
    parts = {"where": card.where, "papers": papers, "time": card.time, "fee": card.fee, "online": card.online}
    shown = list(parts) if whole else list(asks or ("where", "papers"))
    lines = [title + (f" — {card.english.summary}" if lang == "en" else "")]
    for part in shown:
        if parts.get(part):
            value = parts[part] if whole else _shorten(parts[part], CARD_PART_MAX)
            lines.append(t(f"card.{part}", lang, value=value))
    lines.append(t("card.checked", lang, checked=card.checked.strftime("%d/%m/%Y")))
    return "\n".join(lines)


CARD_PART_MAX = 220  # characters of one part of a card in the first reply; the whole card is one tap away


def _shorten(text: str, limit: int) -> str:
    """The text up to the last sentence or clause end within ``limit`` characters, with "…" when cut."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(". ", 0, limit), text.rfind("; ", 0, limit))
    return (text[: cut + 1] if cut > limit // 3 else text[:limit].rsplit(" ", 1)[0]) + " …"


LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the commune's dates, whatever the server's clock says
_COMMUNE = re.compile(r"\b((?:xã|phường|thị trấn)\s+(?P<name>[A-ZĐ]\w*(?:\s+[A-ZĐ]\w*)*))")


def _short_title(title: str) -> str:
    """"BÁO CÁO Công tác cải cách hành chính quý I năm 2026 và …" → "Báo cáo Công tác cải cách hành chính quý I
    năm 2026" (the document's own words, cut before its second half)."""
    words = title.split()
    head = [(w.capitalize() if i == 0 else w.lower()) if w.isupper() and i < 3 else w for i, w in enumerate(words)]
    short = " ".join(head)
    return re.split(r"\s+(?:và|and)\s+", short, maxsplit=1)[0][:90]


_PLACE_WORDS = {"thôn", "bản", "xóm", "xã", "phường", "khu"}


def _places_named(documents: list[Document]) -> set[str]:
    """Folded names the documents write after a place word ("thôn Nà Thâm" → "na tham"), less those of the
    documents' own header (their commune: "ĐẢNG UỶ XÃ CÔNG HẢI", "Công Hải, ngày …"), which every sentence is
    about."""
    out: set[str] = set()
    own = " ".join(fold(v) for d in documents for v in [d.title, *d.meta.values()])
    for doc in documents:
        for p in doc.passages:
            words = re.findall(r"[^\W\d_]+|[^\w\s]", p.text)
            for i, word in enumerate(words[:-1]):
                if word.lower() not in _PLACE_WORDS:
                    continue
                name = []
                for nxt in words[i + 1 : i + 4]:
                    if not (nxt[:1].isupper() and not nxt.isupper()):
                        break
                    name.append(nxt)
                folded = fold(" ".join(name))
                if len(name) >= 2 and folded not in own:  # a one-word name is too often a common word
                    out.add(folded)
    return out


_DOC_KINDS = ("ke hoach", "bao cao", "nghi quyet", "quyet dinh", "to trinh", "chuong trinh", "thong bao", "cong van",
              "ket luan", "chi thi")
# The same kinds as an English question names them ("who signed the report"): read as the Vietnamese kind.
_DOC_KINDS_EN = re.compile(r"\b(plan|report|resolution|decision|submission|programme|program|notice|conclusion"
                           r"|directive)s?\b")
_KIND_OF_EN = {"plan": "ke hoach", "report": "bao cao", "resolution": "nghi quyet", "decision": "quyet dinh",
               "submission": "to trinh", "programme": "chuong trinh", "program": "chuong trinh",
               "notice": "thong bao", "conclusion": "ket luan", "directive": "chi thi"}


def _doc_kind(title: str) -> str | None:
    """What kind of document a title opens with ("KẾ HOẠCH …" → "ke hoach"), folded."""
    head = fold(title)
    return next((k for k in _DOC_KINDS if head.startswith(k)), None)
