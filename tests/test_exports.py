"""/xuat's figures sheet (issue 12 item 5): where each figure left its metric, read in one pass, is what the
registry's own progress says at that figure, whatever the mix of villages, levels, additions and undos."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knowledge.exports import standings
from knowledge.figures import FigureRecord
from knowledge.metrics import Registry, replace_parts

REGISTRY = Registry.load()
KEYS = ["xi_mang_gtnt", "dan_lon", "trong_rung", "ho_ngheo_can_ngheo", "dan_gia_suc"]

figure = st.tuples(st.sampled_from(KEYS), st.integers(0, 500), st.sampled_from([None, "Còn Nàn", "Bản Vàng"]),
                   st.integers(0, 30), st.booleans())


@given(st.lists(figure, max_size=40))
def test_the_standing_beside_each_figure_is_the_registrys_progress_then(rows):
    log = [FigureRecord(n, key, value / 10, None, "", village, "", 1, "A", 1.7e9 + minute * 60,
                        1.8e9 if undone else None)
           for n, (key, value, village, minute, undone) in enumerate(rows, start=1)]
    found = standings(REGISTRY, log)
    ordered = sorted(log, key=lambda f: (f.created_at, f.id))
    assert set(found) == {f.id for f in log if f.live}
    for f in ordered:
        if not f.live:
            continue
        metric = replace_parts(REGISTRY.get(f.metric))  # the figure's own metric: its parts aside
        upto = [g for g in ordered[: ordered.index(f) + 1] if g.metric == f.metric][::-1]
        progress = REGISTRY.progress(metric, upto)
        value, share = found[f.id]
        assert abs(value - progress.value) < 1e-6
        assert (share is None) == (progress.percent is None)
        if share is not None:
            assert abs(share - progress.percent / 100) < 1e-9
