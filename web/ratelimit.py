"""Per-client rate limits on the public endpoints, with the `limits` library (moving window).

The default storage is per process; set KB_RATE_LIMIT_STORAGE=redis://… so that several web processes
share one count. Logged-in agents and admins are not limited on search and feedback.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from limits import RateLimitItemPerMinute, storage, strategies

from kb.settings import Settings


class RateLimiter:
    def __init__(self, settings: Settings):
        self.storage = storage.storage_from_string(settings.rate_limit_storage)
        self.window = strategies.MovingWindowRateLimiter(self.storage)
        self.per_minute = {
            "search": settings.rate_limit_search,
            "feedback": settings.rate_limit_feedback,
            "login": settings.rate_limit_login,
        }

    def allow(self, bucket: str, key: str) -> bool:
        return self.window.hit(RateLimitItemPerMinute(self.per_minute[bucket]), bucket, key)


def limit(bucket: str):
    """A dependency that answers 429 with Retry-After when the caller is over the bucket's limit."""

    def dependency(request: Request) -> None:
        limiter: RateLimiter | None = getattr(request.app.state.services, "limiter", None)
        if limiter is None:
            return
        if bucket != "login":
            from web.auth import current_user

            if current_user(request) is not None:
                return
        key = request.client.host if request.client else "unknown"
        if not limiter.allow(bucket, key):
            raise HTTPException(
                429,
                f"too many requests: at most {limiter.per_minute[bucket]} per minute; try again shortly",
                headers={"Retry-After": "60"},
            )

    return dependency
