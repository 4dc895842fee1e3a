"""How long /admin/gaps takes to open on the demo after `kb index`. Prints numbers.

    OMP_NUM_THREADS=1 python benchmarks/gaps_demo.py [--data DIR] [--json]

The demo as the issue saw it: the shipped articles indexed with `kb index` (a subprocess, as an admin runs it),
six searches typed as a new user would, then the admin opens /admin/gaps (in-process app, logged in through the
form). It prints the index time, then the first and a rebuilt (?refresh=true) page load in seconds, and the
topics the page lists. CPU seconds are printed beside wall seconds: on a shared, loaded machine they say what
an idle one would take.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEARCHES = [
    "Как поменять тариф",
    "how do i pay as a FOP",
    "Ghbdtn yt vjue djqnb",
    "как выгрузить диаграмму ганта",
    "dark mode",
    "forgot password",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="KB_DATA_DIR (default: a temporary folder)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="kb-gaps-demo-"))
    os.environ["KB_DATA_DIR"] = str(data)
    os.environ.setdefault("KB_ARTICLES_DIR", str(REPO / "articles"))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli.main", "index", "--json"], check=True, cwd=REPO, stdout=subprocess.DEVNULL
    )
    index_s = time.perf_counter() - t0

    from fastapi.testclient import TestClient

    from app.runtime import open_runtime
    from kb.settings import Settings
    from web.app import create_app

    settings = Settings()
    out: dict = {"index_seconds": round(index_s, 2), "load_average": round(os.getloadavg()[0], 1)}
    with open_runtime(settings) as rt, TestClient(create_app(settings, runtime=rt)) as client:
        for i, q in enumerate(SEARCHES):
            client.get("/search", params={"q": q}, headers={"x-forwarded-for": f"10.0.0.{i}"})
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "admin", "password": "orbita-demo", "csrf": csrf, "next": "/admin"})
        for name, url in (("first_open_seconds", "/admin/gaps"), ("rebuild_seconds", "/admin/gaps?refresh=true")):
            t, cpu = time.perf_counter(), time.process_time()
            page = client.get(url)
            out[name] = round(time.perf_counter() - t, 2)
            # CPU seconds of this process: what the wall time would be on an idle machine (the app runs in-process).
            out[name.replace("_seconds", "_cpu_seconds")] = round(time.process_time() - cpu, 2)
            assert page.status_code == 200, page.status_code
        out["topics"] = [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(r'<li class="topic"[^>]*>\s*<h3>(.*?)</h3>', page.text, re.S)
        ]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
