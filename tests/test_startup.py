"""What the web app prepares at start-up, so the first request after a restart does not pay for it, and what the
`kb` command does not load when it does not need it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import index_kb

TESTS = Path(__file__).resolve().parent
# The gap report's clustering and metrics: ~1.6 s to import on an idle core, 5-7 s on a loaded one.
REPORT_MODULES = ("scipy.cluster.hierarchy", "sklearn.linear_model", "sklearn.metrics")


def _loaded_after(code: str) -> set[str]:
    """The report modules loaded in a fresh interpreter after running code."""
    report = f"print(*[m for m in {REPORT_MODULES!r} if m in sys.modules])"
    probe = f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n{code}\n{report}"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=TESTS.parent)
    return set(out.stdout.split())


def test_the_kb_command_does_not_import_the_gap_reports_libraries():
    assert _loaded_after("import cli.main\nimport web.app") == set()


def test_the_web_app_imports_them_at_start_up_before_any_request(tmp_path):
    settings = index_kb(tmp_path)
    code = (
        "from kb.settings import Settings\n"
        "from support import serve_app\n"
        f"settings = Settings.model_validate_json({settings.model_dump_json()!r})\n"
        "with serve_app(settings) as client:\n"
        "    pass\n"
    )
    assert _loaded_after(code) == set(REPORT_MODULES)
