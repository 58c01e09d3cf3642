"""The index's compact storage: postings in arrays, sentences as offsets into their passage, shared sets.

What it stores compactly must give what plain per-sentence sets would: the same coverage for every segment,
the same candidates in the same order, the same text to quote.
"""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.index import Postings, _best
from knowledge.kb import KnowledgeBase, UnreadableSource
from knowledge.store import Store


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory, plan_path):
    """The plan and a copy for another commune: two titles, the same headings."""
    folder = tmp_path_factory.mktemp("plans")
    other = folder / "ke-hoach-xa-binh-an.txt"
    other.write_text(plan_path.read_text(encoding="utf-8").replace("Cao Lâu", "Bình An"), encoding="utf-8")
    kb, _ = KnowledgeBase.open(Store(folder / "kb.db"), [plan_path, other])
    return kb


def reference_coverage(kb: KnowledgeBase, question: str) -> dict[int, float]:
    """The first stage computed the plain way: each segment's own words and the words around it as sets."""
    index, r = kb.index, kb.index.ranking
    query = kb.understand(question)  # read and weighed
    slots = [s for s in query.slots if any(index.idf.get(t, r.idf_cap) >= r.common_idf for a in s.alts for t in a)]
    out: dict[int, float] = {}
    for seg in index.segments:
        own = set(seg.toks)
        near = (seg.context | seg.title_words | set(seg.prev.split())) - own
        total, touched = 0.0, False
        for slot in slots or query.slots:
            best = 0.0
            for alt in slot.alts:
                in_text = sum(t in own for t in set(alt))
                in_ctx = sum(t in near for t in set(alt))
                share = in_text / len(alt)
                m = 1.0 if share >= 1.0 else max(share, r.context_weight * (in_text + in_ctx) / len(alt))
                best = max(best, m)
            total += slot.weight * best
            touched = touched or best > 0
        if touched:
            out[seg.id] = total
    return out


def vectorised_coverage(kb: KnowledgeBase, question: str) -> dict[int, float]:
    query = kb.understand(question)
    ids, covered = kb.index.coverage(query)
    return dict(zip(ids.tolist(), covered.tolist()))


@pytest.mark.parametrize("question", [
    "vụ xuân cấy được bao nhiêu ha lúa?",
    "xã Bình An có bao nhiêu hộ nghèo",
    "ho ngheo cao lau 2023",
    "How many tonnes of cement were allocated?",
    "BHYT hộ cận nghèo",
])
def test_coverage_from_postings_equals_the_plain_computation(two_plans, question):
    expected = reference_coverage(two_plans, question)
    got = vectorised_coverage(two_plans, question)
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[i], expected[i], rel_tol=1e-12) for i in expected)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8))
def test_coverage_equals_the_plain_computation_for_any_words(two_plans, picks):
    """Questions made of the knowledge base's own words (text, headings, titles) and of unknown ones."""
    vocabulary = sorted(two_plans.index.vocabulary)
    words = [vocabulary[p % len(vocabulary)] if p % 7 else f"zz{p}" for p in picks]
    question = " ".join(words)
    expected = reference_coverage(two_plans, question)
    got = vectorised_coverage(two_plans, question)
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[i], expected[i], rel_tol=1e-12) for i in expected)


@given(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.5, 1.0, 1.5, 1.5]), max_size=200),
       st.integers(min_value=1, max_value=70))
def test_the_best_candidates_are_the_highest_scores_ties_in_document_order(scores, k):
    ids = np.arange(0, 3 * len(scores), 3, dtype=np.int64)  # ascending, with gaps, like real candidates
    values = np.array(scores, dtype=float)
    expected = [i for _, i in sorted(zip((-v for v in scores), ids.tolist()))][:k]
    assert _best(ids, values, k) == expected


@pytest.mark.parametrize("size, dtype", [(100, np.uint16), (2**16, np.uint16), (2**16 + 1, np.int32),
                                         (200_000, np.int32)])
def test_postings_keep_every_id_in_the_smallest_type_that_holds_it(size, dtype):
    rng = random.Random(size)
    segments = [SimpleNamespace(id=i) for i in range(size)]
    chosen = {"lua": set(rng.sample(range(size), 50)) | {size - 1}, "ngo": {0}, "tom": {size // 2}}
    postings = Postings.of(segments, lambda seg: {w for w, ids in chosen.items() if seg.id in ids})
    assert postings.ids.dtype == dtype
    for word, ids in chosen.items():
        assert postings.get(word).tolist() == sorted(ids)
    assert postings.get("khoai") is None and "khoai" not in postings
    assert dict(postings.counts()) == {w: len(ids) for w, ids in chosen.items()}


def test_a_list_item_is_shown_with_its_lead_in_from_the_passage_text(two_plans):
    items = [s for s in two_plans.index.segments if s.head and s.order and "Bản Vàng 31 tấn" in s.text]
    assert items, "the cement list of the plan was not split into items"
    item = items[0]
    assert item.text.startswith(item.head + " … ")
    assert item.text.endswith("Bản Vàng 31 tấn;")
    assert item.sentence == item.text.replace(" … ", " ", 1)
    assert any(number == "31" and after[:1] == ("tan",) for number, after, _ in item.numbers)


def test_every_segment_quotes_the_passage_own_characters(two_plans):
    for seg in two_plans.index.segments:
        if seg.passage.kind == "faq":
            assert seg.text == seg.passage.text
            continue
        shown = seg.text[len(seg.head):].lstrip(" …") if seg.head else seg.text
        assert shown and shown in seg.passage.text


def test_two_plans_under_the_same_headings_share_one_set(two_plans):
    index = two_plans.index
    by_doc: dict[str, list] = {}
    for seg in index.segments:
        if seg.passage.kind == "body":
            by_doc.setdefault(seg.passage.doc, []).append(seg)
    first, second = by_doc.values()
    assert len(first) == len(second)
    assert all(a.context is b.context for a, b in zip(first, second))
    assert first[0].title_words != second[0].title_words  # each plan's own title, kept apart


def test_a_source_that_fails_to_parse_leaves_the_built_knowledge_base(tmp_path, plan_path):
    store = Store(tmp_path / "kb.db")
    KnowledgeBase.open(store, [plan_path])
    broken = tmp_path / "hong.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    with pytest.raises(UnreadableSource):
        KnowledgeBase.open(store, [plan_path, broken])
    documents = store.load_documents()
    assert [d.name for d in documents] == [plan_path.stem]
    assert len(documents[0].passages) > 100
    kb, report = KnowledgeBase.open(store, [plan_path])
    assert not report.rebuilt and kb.ask("vụ xuân cấy được bao nhiêu ha lúa?").found
