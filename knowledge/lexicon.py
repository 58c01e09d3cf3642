"""The words the engine knows: abbreviations, everyday synonyms, the English glossary and question cues.

All of it is data. ``data/synonyms.yaml``, ``data/glossary.yaml`` and ``data/cues.yaml`` serve every
commune, so they hold only general Vietnamese (and English) administrative language. Wording that one
document alone uses (its places, its spelling, its particular phrases) lives in a document lexicon, a
``*-lexicon.yaml`` file that names its ``document`` and is merged only when that document is loaded:
another commune's plan is never read through Cao Lâu's words. This module loads it all once, folds it,
and applies it to token streams. It also repairs what phones produce: Telex typed with the input method
off, doubled letters, one-letter typos, always checked against words the knowledge base actually
contains, so a repair never invents a word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .text import accent_key, fold_word, nfc, normalize, telex_decode, tokens

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 10× faster


def data_file(data_dir: Path, name: str) -> Path:
    """A commune's own copy of a data file if its folder has one, else the project's (the language files,
    synonyms, glossary and cues, serve every commune)."""
    own = data_dir / name
    return own if own.exists() else DATA_DIR / name


def load_yaml(path: Path) -> dict | list:
    """A data file, or {} when it is absent."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LOADER) or {}


_SYNONYM_SECTIONS = ("abbreviations", "abbreviations_caps", "colloquial")
_GLOSSARY_SECTIONS = ("terms",)
_CUE_SECTIONS = ("stopwords", "stopwords_en", "question_types", "folded_ambiguous", "measures", "classifiers",
                 "totals", "stance", "relative_years", "relative_school_years", "counters", "contrasts")
LEXICON_SUFFIX = "-lexicon.yaml"


def document_lexicons(data_dir: Path, documents: Iterable[str]) -> list[dict]:
    """The ``*-lexicon.yaml`` files of the project's and the commune's data folders whose ``document`` is one of
    ``documents``; the commune's copy of a file wins over the project's file of the same name."""
    wanted = set(documents)
    if not wanted:
        return []
    files = {f.name: f for f in sorted(DATA_DIR.glob(f"*{LEXICON_SUFFIX}"))}
    files.update({f.name: f for f in sorted(Path(data_dir).glob(f"*{LEXICON_SUFFIX}"))})
    out: list[dict] = []
    for name in sorted(files):
        data = load_yaml(files[name])
        if not isinstance(data, dict):
            raise ValueError(f"{files[name]}: a document lexicon is a mapping of sections")
        named = data.get("document")
        if not named:
            raise ValueError(f"{files[name]}: no 'document' key (the stem of the source file it serves)")
        unknown = set(data) - {"document", *_SYNONYM_SECTIONS, *_GLOSSARY_SECTIONS, *_CUE_SECTIONS}
        if unknown:  # a misspelt section would be ignored without a word
            raise ValueError(f"{files[name]}: unknown sections {sorted(unknown)}")
        names = {str(n) for n in (named if isinstance(named, list) else [named])}
        if names & wanted:
            out.append(data)
    return out


_TABLES = {"abbreviations", "abbreviations_caps", "colloquial", "terms", "relative_years", "relative_school_years"}
_KEYED_LISTS = {"question_types", "stance", "measures"}


def _merge(base: dict, own: dict, sections: tuple[str, ...]) -> None:
    """Add a document lexicon's sections to the shared ones: a phrase table's entry replaces the shared entry
    for the same folded phrase, a list grows, a counter group that shares a unit with a shared group joins it."""
    for section in sections:
        extra = own.get(section)
        if not extra:
            continue
        shared = base.get(section)
        if section in _TABLES:
            replaced = {_phrase(k) for k in extra}
            base[section] = {**{k: v for k, v in (shared or {}).items() if _phrase(k) not in replaced}, **extra}
        elif section in _KEYED_LISTS:
            merged = {k: list(v) for k, v in (shared or {}).items()}
            for key, values in extra.items():
                merged.setdefault(key, [])
                merged[key] += [v for v in values if v not in merged[key]]
            base[section] = merged
        elif section == "counters":
            base[section] = _merge_counters(list(shared or []), extra)
        else:
            base[section] = list(shared or []) + [v for v in extra if v not in (shared or [])]


def _merge_counters(groups: list[dict], extra: list[dict]) -> list[dict]:
    groups = [{"members": list(g.get("members") or []), "accepts": list(g.get("accepts") or [])} for g in groups]
    for group in extra:
        members = list(group.get("members") or [])
        accepts = list(group.get("accepts") or [])
        home = next((g for g in groups if {_phrase(m) for m in g["members"]} & {_phrase(m) for m in members}),
                    None)
        if home is None:
            groups.append({"members": members, "accepts": accepts})
            continue
        home["members"] += [m for m in members if m not in home["members"]]
        home["accepts"] += [a for a in accepts if a not in home["accepts"]]
    return groups


_ACCENTED_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*|[^\W\d_]+\d*|%", re.UNICODE)


def accented_tokens(text: str) -> list[str]:
    """Tokens of ``text`` keeping diacritics (normalised, lower case): "giá" and "gia" stay apart."""
    return _ACCENTED_TOKEN.findall(normalize(text))


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens(str(text)))


@dataclass
class Counter_:
    """A group of units that count the same kind of thing."""

    members: set[tuple[str, ...]]
    accepts: set[tuple[str, ...]]


@dataclass
class Lexicon:
    """Folded phrase tables, built once from the data folder."""

    abbreviations: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    colloquial: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    colloquial_alts: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)
    colloquial_accents: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    glossary: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    glossary_accents: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)  # "goats" → ("dê",)
    # An English term with several usual Vietnamese readings ("training" → đào tạo | bồi dưỡng | tập huấn):
    # by the first reading, which replaces the English words, all of them, any of which a sentence may say.
    glossary_alts: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)
    stopwords: set[str] = field(default_factory=set)
    stopwords_accented: set[str] = field(default_factory=set)
    stop_phrases: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    stop_phrase_set: set[tuple[str, ...]] = field(default_factory=set)
    abbreviations_caps: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    abbreviation_accents: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    stopwords_en: set[str] = field(default_factory=set)
    question_types: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    folded_ambiguous: set[tuple[str, ...]] = field(default_factory=set)
    stance: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = field(default_factory=dict)
    relative_years: dict[tuple[str, ...], int] = field(default_factory=dict)
    relative_school_years: dict[tuple[str, ...], int] = field(default_factory=dict)
    counters: list[Counter_] = field(default_factory=list)
    measures: dict[tuple[str, ...], set[tuple[str, ...]]] = field(default_factory=dict)
    totals: list[tuple[str, ...]] = field(default_factory=list)
    classifiers: set[tuple[str, ...]] = field(default_factory=set)
    contrasts: list[list[set[tuple[str, ...]]]] = field(default_factory=list)
    known_accented: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR, documents: Iterable[str] = ()) -> Lexicon:
        """The shared language files, plus the lexicon of each loaded document (``documents``: their names, the
        source files' stems), so that one plan's wording never reaches a question about another plan."""
        syn = load_yaml(data_file(data_dir, "synonyms.yaml"))
        glo = load_yaml(data_file(data_dir, "glossary.yaml"))
        cues = load_yaml(data_file(data_dir, "cues.yaml"))
        syn = dict(syn) if isinstance(syn, dict) else {}
        glo = dict(glo) if isinstance(glo, dict) else {}
        cues = dict(cues) if isinstance(cues, dict) else {}
        for own in document_lexicons(data_dir, documents):
            _merge(syn, own, _SYNONYM_SECTIONS)
            _merge(glo, own, _GLOSSARY_SECTIONS)
            _merge(cues, own, _CUE_SECTIONS)
        lex = cls()
        for key, value in (syn.get("abbreviations") or {}).items():
            k, v = _phrase(key), _phrase(value)
            if k and v and k != v:
                lex.abbreviations[k] = v
                lex.abbreviation_accents[k] = tuple(accent_key(w) for w in accented_tokens(str(value)))
        for key, value in (syn.get("colloquial") or {}).items():
            values = value if isinstance(value, list) else [value]
            k, alts = _phrase(key), [_phrase(v) for v in values if _phrase(v)]
            if k and alts:  # an entry mapping to itself protects a phrase from a shorter entry
                lex.colloquial[k] = alts[0]
                accents = tuple(accent_key(w) for w in accented_tokens(str(values[0])))
                if len(accents) == len(alts[0]):
                    lex.colloquial_accents[k] = accents
                if len(alts) > 1:  # several readings ("giữ" → duy trì | giữ vững): any may match
                    lex.colloquial_alts[k] = alts
        for key, value in (glo.get("terms") or {}).items():
            values = value if isinstance(value, list) else [value]
            k, alts = _phrase(key), [_phrase(v) for v in values if _phrase(v)]
            if k and alts:
                v = alts[0]
                lex.glossary[k] = v
                accents = tuple(accent_key(w) for w in accented_tokens(str(values[0])))
                if len(accents) == len(v):
                    lex.glossary_accents[k] = accents
                if len(alts) > 1:
                    known = lex.glossary_alts.setdefault(v, [v])
                    known.extend(a for a in alts if a not in known)
        lex.stopwords = {fold_word(w) for w in cues.get("stopwords") or []}
        lex.stopwords_accented = {normalize(str(w)) for w in cues.get("stopwords") or []}
        for w in cues.get("stopwords") or []:
            acc = tuple(accented_tokens(str(w)))
            if len(acc) > 1:
                lex.stop_phrases.append((acc, _phrase(str(w))))
            lex.stop_phrase_set.add(_phrase(str(w)))
        for key, values in (syn.get("abbreviations_caps") or {}).items():
            alts = values if isinstance(values, list) else [values]
            lex.abbreviations_caps[nfc(str(key))] = [_phrase(v) for v in alts if _phrase(v)]
        lex.stopwords_en = {fold_word(str(w)) for w in cues.get("stopwords_en") or []}
        for qtype, phrases in (cues.get("question_types") or {}).items():
            for p in phrases:
                accented = tuple(_ACCENTED_TOKEN.findall(normalize(str(p))))
                lex.question_types.append((qtype, accented, _phrase(p)))
        # Longest phrase first, so "bao nhiêu phần trăm" wins over "bao nhiêu".
        lex.question_types.sort(key=lambda x: -len(x[1]))
        lex.folded_ambiguous = {_phrase(p) for p in cues.get("folded_ambiguous") or []}
        lex.stance = {k: [(tuple(accented_tokens(str(p))), _phrase(p)) for p in v]
                      for k, v in (cues.get("stance") or {}).items()}
        lex.relative_years = {_phrase(k): int(v) for k, v in (cues.get("relative_years") or {}).items()}
        lex.relative_school_years = {
            _phrase(k): int(v) for k, v in (cues.get("relative_school_years") or {}).items()
        }
        lex.classifiers = {_phrase(w) for w in cues.get("classifiers") or []}
        for group in cues.get("counters") or []:
            members = {_phrase(m) for m in group.get("members") or []}
            # A document writes "học sinh", never "đứa": classifiers are asked for, not accepted.
            accepts = ({_phrase(m) for m in group.get("accepts") or []} | members) - lex.classifiers
            lex.counters.append(Counter_(members, accepts))
        for word, units in (cues.get("measures") or {}).items():
            lex.measures[_phrase(word)] = {_phrase(u) for u in units}
        lex.totals = [_phrase(w) for w in cues.get("totals") or []]
        # An everyday word for a member is that member too: "heo" is the pigs of "lợn", "bắp" the maize of "ngô".
        everyday: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for key, value in lex.colloquial.items():
            everyday.setdefault(value, set()).add(key)
        for group in cues.get("contrasts") or []:
            members = [{_phrase(m) for m in member} for member in group]
            lex.contrasts.append([m | {k for p in m for k in everyday.get(p, ())} for m in members])
        for table in (syn.get("abbreviations") or {}, syn.get("colloquial") or {}):
            for key, value in table.items():
                lex.known_accented.update(normalize(str(key)).split())
                for v in value if isinstance(value, list) else [value]:
                    lex.known_accented.update(normalize(str(v)).split())
        for w in cues.get("stopwords") or []:
            lex.known_accented.update(normalize(str(w)).split())
        return lex

    # -- token streams ---------------------------------------------------------------------------
    def expansion_accents(self, toks: list[str]) -> set[str]:
        """The full forms' words, with diacritics, of the abbreviations in ``toks`` ("bhyt" → bảo, hiểm, y, tế)."""
        out: set[str] = set()
        present = set(toks)
        for key, words in self.abbreviation_accents.items():
            if key[0] in present and (len(key) == 1 or _match_at(toks, toks.index(key[0]), {key: ()}, len(key))):
                out.update(words)
        return out

    def expand_abbreviations(self, toks: list[str]) -> list[str]:
        """Insert each abbreviation's full form after it ("bhyt" → "bhyt bao hiem y te")."""
        return _rewrite(toks, self.abbreviations, keep=True)

    def apply_glossary(self, toks: list[str]) -> tuple[list[str], list[str | None]]:
        """English terms → the plan's words, each with its diacritics where the glossary writes them (so that
        "goats" looks for "dê", not "để"); the words it does not translate have none."""
        out, done = _replace(toks, self.glossary)
        accents: list[str | None] = [None] * len(out)
        for start, end, key in done:
            accents[start:end] = self.glossary_accents.get(key) or [None] * (end - start)
        return out, accents

    def is_english(self, toks: list[str]) -> bool:
        """English when several English function words appear and no Vietnamese-only letters do."""
        hits = {t for t in toks if t in self.stopwords_en and t not in self.stopwords}
        if len(hits) >= 2:
            return True
        # A short question with one such word ("Who signed the monthly report?": "the" is also "thế"): English
        # when nearly every word is an English word the glossary or the stop words know.
        words = [t for t in toks if t.isalpha()]
        if len(words) < 3 or not hits:
            return False
        english = sum(t in self.stopwords_en or (t,) in self.glossary for t in words)
        return english >= ENGLISH_SHARE * len(words)

    def counter_of(self, phrase: tuple[str, ...]) -> Counter_ | None:
        for c in self.counters:
            if phrase in c.members:
                return c
        return None


def _match_at(toks: list[str], i: int, table: dict[tuple[str, ...], tuple[str, ...]], longest: int):
    for n in range(min(longest, len(toks) - i), 0, -1):
        key = tuple(toks[i : i + n])
        if key in table:
            return key
    return None


def _rewrite(toks: list[str], table: dict[tuple[str, ...], tuple[str, ...]], keep: bool) -> list[str]:
    if not table:
        return list(toks)
    longest = max(len(k) for k in table)
    out: list[str] = []
    i = 0
    while i < len(toks):
        key = _match_at(toks, i, table, longest)
        if key is None:
            out.append(toks[i])
            i += 1
            continue
        if keep:
            out.extend(key)
        out.extend(table[key])
        i += len(key)
    return out


def _replace(toks: list[str], table: dict[tuple[str, ...], tuple[str, ...]]):
    if not table:
        return list(toks), []
    longest = max(len(k) for k in table)
    out: list[str] = []
    done: list[tuple[int, int, tuple[str, ...]]] = []
    i = 0
    while i < len(toks):
        key = _match_at(toks, i, table, longest)
        if key is None:
            out.append(toks[i])
            i += 1
            continue
        start = len(out)
        out.extend(table[key])
        done.append((start, len(out), key))
        i += len(key)
    return out, done


ENGLISH_SHARE = 0.8  # of a short question's words, English ones, for it to be read as English
RUNS_COUNTED = 12  # an initialism's likeliest runs of words, counted in the documents
RUN_MIN = 3  # ... and how often its run must be written


class Speller:
    """Repairs a question's words against the vocabulary of the knowledge base."""

    def __init__(self, vocabulary: Counter[str], known_accented: set[str],
                 bigrams: set[tuple[str, str]] | None = None,
                 pair_counts: dict[tuple[str, str], int] | None = None, stopwords: set[str] | None = None,
                 count_run: Callable[[tuple[str, ...]], int] | None = None) -> None:
        self.vocabulary = vocabulary
        self.stopwords = stopwords or set()
        self.count_run = count_run  # how many sentences write these words in a row (``initialism``)
        self.bigrams = bigrams or set()  # pairs where a stop-word-like word has another reading ("hồ sơ")
        self.pair_counts = pair_counts or {}  # word pairs of the knowledge base, with how often they occur
        self.pairs = self.pair_counts.keys()  # ("gia cầm", "gia đình")
        self.known_accented = known_accented
        self._words = [w for w in vocabulary if w.isalpha() and len(w) >= 2]
        self._by_initials: dict[str, list[tuple[tuple[str, str], int]]] | None = None  # made when first needed
        self._following: dict[tuple[str, str], list[tuple[str, int]]] = {}

    def initialism(self, letters: str) -> tuple[str, ...] | None:
        """An abbreviation no lexicon lists, read from the knowledge base's own words: the run of content
        words, one per letter, that its documents write most often ("ĐTC" → đầu tư công, "HCC" → hành chính
        công, "TĐC" → tái định cư), if one run is clearly the most frequent and written ``RUN_MIN`` times.
        Each commune's documents spell out their own shorthand; no list of it is kept."""
        if self.count_run is None or not 2 <= len(letters) <= 5 or not letters.isalpha():
            return None
        if self._by_initials is None:
            self._by_initials = {}
            for (a, b), n in self.pair_counts.items():
                # content words only: a stop word counts where it pairs up as another word ("đầu tư": not "từ")
                if a.isalpha() and b.isalpha() and (
                        (a not in self.stopwords and b not in self.stopwords) or (a, b) in self.bigrams):
                    self._by_initials.setdefault(a[0] + b[0], []).append(((a, b), n))
                    self._following.setdefault((a, b[0]), []).append((b, n))
        runs: list[tuple[tuple[str, ...], int]] = list(self._by_initials.get(letters[:2], []))
        for letter in letters[2:]:
            runs = [((*run, w), min(n, m)) for run, n in runs for w, m in self._following.get((run[-1], letter), [])]
        if len(letters) > 2:  # the pairs overlap; how often the whole run is written is counted, for the likeliest
            runs = [(run, self.count_run(run)) for run, _ in sorted(runs, key=lambda x: -x[1])[:RUNS_COUNTED]]
        runs.sort(key=lambda x: -x[1])
        if not runs or runs[0][1] < RUN_MIN or (len(runs) > 1 and runs[1][1] >= runs[0][1]):
            return None
        return runs[0][0]

    def known(self, folded_word: str) -> bool:
        return folded_word in self.vocabulary

    def repair(self, raw_word: str) -> str | None:
        """A folded known word for an unknown ``raw_word`` (original case/diacritics), or None."""
        folded = fold_word(raw_word)
        if not folded.isalpha():
            return None
        decoded = telex_decode(normalize(raw_word))
        if decoded and normalize(decoded) in self.known_accented and fold_word(decoded) in self.vocabulary:
            return fold_word(decoded)
        # "lúaa", "hồii", "sinhh": a held key.
        squeezed = re.sub(r"(.)\1+$", r"\1", folded)
        if squeezed != folded and squeezed in self.vocabulary:
            return squeezed
        squeezed_n = re.sub(r"(.)\1+$", r"\1", normalize(raw_word))
        if squeezed_n != normalize(raw_word):
            decoded = telex_decode(squeezed_n)
            if decoded and fold_word(decoded) in self.vocabulary:
                return fold_word(decoded)
        # A one-letter slip, only in longer words: short ones have too many real neighbours ("chia"/"chi").
        if len(folded) < 5:
            return None
        found = process.extract(folded, self._words, scorer=Levenshtein.distance, score_cutoff=1, limit=8)
        if not found:
            return None
        best = max(found, key=lambda x: (-x[1], self.vocabulary[x[0]]))
        return best[0]
