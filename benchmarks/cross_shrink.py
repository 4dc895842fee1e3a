"""How much a cross-language match shrinks the answered features, measured on the shipped help center.

    python benchmarks/cross_shrink.py [--articles articles]

Every title and section heading of an article that has translations is searched twice through the product's
retrieval: with its own article present (its translations removed), and with only its translations left. The
ratio of the mean z_top and z_gap of the second to the first is how much less a cross-language answer stands
out; search/calibration.py divides the features of cross-language searches by it when a KB has no
translations of its own to fit the cross-language model on (CROSS_SHRINK).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search import calibration  # noqa: E402
from search.answered import evidence  # noqa: E402
from search.background import Background  # noqa: E402
from search.query import analyse  # noqa: E402
from search.retrieval import Retriever  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=Path, default=ROOT / "articles")
    args = ap.parse_args()
    settings = Settings()
    embedder = load_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="kb-shrink-") as tmp:
        store = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(store, embedder, settings.chunk_tokens).run(args.articles)
            arts, vectors = calibration._read_kb(store)
            background = Background.build(vectors, (a.terms for a in arts.values()))
            groups: dict[str, list[str]] = {}
            for a in arts.values():
                groups.setdefault(a.group, []).append(a.id)
            retriever = Retriever(store, embedder)
            same, cross = [], []
            for kind, text, aid in calibration._pseudo_queries(arts, random.Random(0)):
                members = groups[arts[aid].group]
                if kind == "line" or len(members) < 2:
                    continue
                q = analyse(text)
                vec = embedder.embed_queries([q.text])[0]
                for exclude, out, want_cross in (
                    ([m for m in members if m != aid], same, False),
                    ([m for m in members if arts[m].locale == arts[aid].locale], cross, True),
                ):
                    hits = retriever.search(
                        q.text, 10, exclude=exclude, query_lang=q.lang, vectors=retriever.query_vectors(q, vec)
                    )
                    e = evidence(q, vec, hits, background)
                    if e is not None and e.cross == want_cross:
                        out.append((e.z_top, e.z_gap))
        finally:
            store.close()
    s, c = np.array(same), np.array(cross)
    ratio = c.mean(axis=0) / s.mean(axis=0)
    print(f"{len(s)} same-language and {len(c)} cross-language searches of titles and headings")
    print(f"mean z_top {s[:, 0].mean():.3f} → {c[:, 0].mean():.3f}, z_gap {s[:, 1].mean():.3f} → {c[:, 1].mean():.3f}")
    print(f"CROSS_SHRINK = ({ratio[0]:.2f}, {ratio[1]:.2f})")


if __name__ == "__main__":
    main()
