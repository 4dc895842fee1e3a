"""The composition root: one place that builds what the web app and the `kb` command run on."""

from app.runtime import Runtime, open_runtime

__all__ = ["Runtime", "open_runtime"]
