"""Segments on their own: BM25 over lexical segments with tombstones equals a fresh build, cached term weights,
reading vectors from segment files, and IVF merges streamed from file to file."""

from __future__ import annotations

import random

import numpy as np
import pytest

from qa.index.lexical import Tokenizer
from qa.index.postings import LexicalSegment, LexicalView, merge_segments, write_segment


def _tokens(texts: list[str]) -> list[list[str]]:
    tokenizer = Tokenizer()
    return [tokenizer(t) for t in texts]


def test_bm25_over_segments_equals_a_fresh_build_after_deletes_and_merge(tmp_path):
    """Global statistics: segments with tombstones score exactly as one segment built from the live rows."""
    rng = random.Random(3)
    words = "科技 创新 企业 高新技术 孵化器 人才 资金 研发 投入 平台 园区 专利 成果 转化 金融 贷款 补贴 税收".split()
    texts = ["".join(rng.choice(words) for _ in range(rng.randint(3, 30))) for _ in range(300)]
    tokens = _tokens(texts)
    pids = np.arange(1, 301, dtype=np.int64)
    folders = []
    for i, (start, end) in enumerate([(0, 100), (100, 220), (220, 300)]):
        folders.append(tmp_path / f"lex-{i}")
        write_segment(folders[-1], pids[start:end], tokens[start:end])
    dead = set(rng.sample(range(300), 70))
    live = [i for i in range(300) if i not in dead]
    row_of = {int(pids[i]): row for row, i in enumerate(live)}
    segments = [LexicalSegment.load(f, i) for i, f in enumerate(folders)]
    maps = [np.array([row_of.get(int(p), -1) for p in s.pids]) for s in segments]
    segmented = LexicalView(segments, maps, len(live))
    fresh_folder = tmp_path / "fresh"
    write_segment(fresh_folder, pids[live], [tokens[i] for i in live])
    fresh = LexicalView([LexicalSegment.load(fresh_folder, 9)], [np.arange(len(live))], len(live))
    merged_folder = tmp_path / "merged"
    assert merge_segments(segments, maps, merged_folder) == len(live)
    merged_segment = LexicalSegment.load(merged_folder, 10)
    merged = LexicalView([merged_segment], [np.array([row_of[int(p)] for p in merged_segment.pids])], len(live))
    for query in ["科技创新", "高新技术企业 孵化器", "研发投入 税收 补贴", "园区", "不存在的词"]:
        q = _tokens([query])[0]
        expected = fresh.scores(q)
        np.testing.assert_allclose(segmented.scores(q), expected, atol=1e-6)
        np.testing.assert_allclose(merged.scores(q), expected, atol=1e-6)
        for term in q:
            assert segmented.doc_freq(term) == fresh.doc_freq(term) == merged.doc_freq(term)


def test_cached_term_weights_score_as_computed_afresh(tmp_path, monkeypatch):
    """A view keeps terms' weighted postings; asked again, evicted or not, a query scores the same."""
    from qa.index import postings

    rng = random.Random(5)
    words = "科技 创新 企业 孵化器 人才 资金 研发 平台 园区 专利".split()
    tokens = _tokens(["".join(rng.choice(words) for _ in range(rng.randint(3, 20))) for _ in range(200)])
    write_segment(tmp_path / "s", np.arange(200), tokens)
    queries = [_tokens([q])[0] for q in ["科技创新", "孵化器 人才", "研发平台 专利 科技", "园区 园区"]]

    def view() -> LexicalView:
        return LexicalView([LexicalSegment.load(tmp_path / "s", 1)], [np.arange(200)], 200)

    first = [view().scores(q) for q in queries]  # each from an empty cache
    monkeypatch.setattr(postings, "WEIGHT_CACHE_BYTES", 600)  # room for about one term: evictions on the way
    small = view()
    for _ in range(3):
        for q, expected in zip(queries, first, strict=True):
            np.testing.assert_array_equal(small.scores(q), expected)
    assert 1 <= len(small._weights) < len({t for q in queries for t in q})
    # a repeated word counts twice, cached or not
    np.testing.assert_allclose(small.scores(queries[3]), 2 * small.scores(queries[3][:1]), rtol=1e-6)


def test_vectors_of_reads_the_live_vector_of_each_row_also_after_its_file_is_gone(tmp_path):
    """Candidates' vectors are read from the segment files (not through the mapping): the newest segment's
    vector of a passage wins, repeats and rows without a vector come back right, and a view whose segment a
    merge has deleted still reads it."""
    import shutil

    from qa.index import vectors

    rng = np.random.default_rng(0)
    first, second = rng.standard_normal((40, 8)).astype(np.float32), rng.standard_normal((10, 8)).astype(np.float32)
    vectors.write_segment(tmp_path / "a", np.arange(40), first, kinds=np.ones(40, np.int8))
    vectors.write_segment(tmp_path / "b", np.arange(30, 40), second, kinds=np.full(10, 2, np.int8))
    segments = [vectors.VectorSegment.load(tmp_path / "a", 1), vectors.VectorSegment.load(tmp_path / "b", 2)]
    # live rows 0..44: passages 0..39 plus five without vectors; the newer segment supersedes passages 30..39
    maps = [np.where(np.arange(40) < 30, np.arange(40), -1), np.arange(30, 40)]
    view = vectors.VectorView(segments, maps, 45, 8)
    wanted = np.array([3, 35, 3, 44, 0, 39])
    expected = np.stack([first[3], second[5], first[3], np.zeros(8, np.float32), first[0], second[9]])
    np.testing.assert_array_equal(view.vectors_of(wanted), expected)
    shutil.rmtree(tmp_path / "a")
    np.testing.assert_array_equal(view.vectors_of(np.array([7, 31])), np.stack([first[7], second[1]]))


def test_bm25_is_lucene_bm25(tmp_path):
    """idf = ln(1 + (N - df + 0.5)/(df + 0.5)); tf part = tf / (tf + k1 (1 - b + b dl/avgdl)), k1 1.2, b 0.75."""
    tokens = [["a", "b"], ["b", "c", "c"], ["a"], ["c"]]
    write_segment(tmp_path / "s", np.arange(4), tokens)
    view = LexicalView([LexicalSegment.load(tmp_path / "s", 1)], [np.arange(4)], 4)
    avgdl = 7 / 4
    idf = np.log(1 + (4 - 2 + 0.5) / (2 + 0.5))
    expected = [idf * tf / (tf + 1.2 * (0.25 + 0.75 * len(d) / avgdl)) for d, tf in zip(tokens, [1, 0, 1, 0], strict=True)]
    np.testing.assert_allclose(view.scores(["a"]), expected, rtol=1e-6)
    c_idf = np.log(1 + (4 - 2 + 0.5) / 2.5)
    assert view.scores(["c"])[1] == pytest.approx(c_idf * 2 / (2 + 1.2 * (0.25 + 0.75 * 3 / avgdl)), rel=1e-6)


def test_large_vector_merges_stream_into_an_ivf_index_that_is_searched_from_its_file(tmp_path):
    from qa.index import vectors as store

    rng = np.random.default_rng(7)
    dim, sizes = 16, (300, 250, 400)
    segments, live, expected = [], [], []
    next_pid = 0
    for number, size in enumerate(sizes):
        matrix = rng.normal(size=(size, dim)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        pids = np.arange(next_pid, next_pid + size)
        next_pid += size
        store.write_segment(tmp_path / f"vec-{number}", pids, matrix, np.full(size, number % 2 + 1, np.int8))
        segments.append(store.VectorSegment.load(tmp_path / f"vec-{number}", number))
        row_map = np.arange(size)
        row_map[rng.choice(size, size=size // 5, replace=False)] = -1  # tombstones
        live.append(row_map)
        expected.append((pids[row_map >= 0], matrix[row_map >= 0], np.full(int((row_map >= 0).sum()), number % 2 + 1)))
    total = store.merge_segments(segments, live, tmp_path / "merged", approximate_above=500)
    merged = store.VectorSegment.load(tmp_path / "merged", 9)
    assert total == sum(len(p) for p, _, _ in expected) and merged.ivf is not None and merged.ivf.ntotal == total
    np.testing.assert_array_equal(merged.pids, np.concatenate([p for p, _, _ in expected]))
    np.testing.assert_array_equal(np.asarray(merged.vectors), np.concatenate([v for _, v, _ in expected]))
    np.testing.assert_array_equal(merged.kinds, np.concatenate([k for _, _, k in expected]))

    def exact_and_probed(segment: store.VectorSegment, row_map: np.ndarray, query: np.ndarray):
        segment.ivf.nprobe = segment.ivf.nlist  # every list probed: IVF must equal exact search
        view = store.VectorView([segment], [row_map], int(row_map.max()) + 1, dim)
        scores, rows = view.search(query, 10)
        exact = np.asarray(segment.vectors) @ query
        exact[row_map < 0] = -np.inf
        return rows, row_map[np.argsort(-exact, kind="stable")[:10]], scores

    query = np.asarray(merged.vectors[3]) * 0.6 + np.asarray(merged.vectors[200]) * 0.4
    query /= np.linalg.norm(query)
    row_map = np.arange(total)
    row_map[np.argsort(-(np.asarray(merged.vectors) @ query))[:2]] = -1  # the two nearest are deleted
    row_map[row_map >= 0] = np.arange(int((row_map >= 0).sum()))
    found, exact, scores = exact_and_probed(merged, row_map, query)
    np.testing.assert_array_equal(found, exact)
    assert np.all(np.diff(scores) <= 1e-6)

    # merging the merged segment again reuses its (file-mapped) index's centroids
    again = store.merge_segments([merged], [np.arange(total)], tmp_path / "again", approximate_above=500)
    remerged = store.VectorSegment.load(tmp_path / "again", 10)
    assert again == total and remerged.ivf.nlist == merged.ivf.nlist
    np.testing.assert_array_equal(faiss_centroids(remerged.ivf), faiss_centroids(merged.ivf))
    found, exact, _ = exact_and_probed(remerged, np.arange(total), query)
    np.testing.assert_array_equal(found, exact)


def faiss_centroids(ivf) -> np.ndarray:
    import faiss

    return faiss.rev_swig_ptr(faiss.downcast_index(ivf.quantizer).get_xb(), ivf.nlist * ivf.d).copy()
