"""API errors, rendered as Kubernetes `Status` objects."""

from typing import Any

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
    504: "Timeout",
}


class ApiError(Exception):
    """An API failure with its HTTP code, Status reason and message."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        list_meta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details
        self.list_meta = list_meta
        """The Status's `metadata` (a 410 on a stale continue token carries the
        token that goes on inconsistently there)."""

    def status(self) -> dict[str, Any]:
        """The `Status` object the real API server would send."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.list_meta or {}),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def not_found(cls, group: str, plural: str, name: str) -> "ApiError":
        resource = f"{plural}.{group}" if group else plural
        return cls(
            404,
            f'{resource} "{name}" not found',
            details={"name": name, "group": group, "kind": plural},
        )

    @classmethod
    def already_exists(cls, group: str, plural: str, name: str) -> "ApiError":
        resource = f"{plural}.{group}" if group else plural
        return cls(
            409,
            f'{resource} "{name}" already exists',
            "AlreadyExists",
            {"name": name, "group": group, "kind": plural},
        )

    @classmethod
    def conflict(cls, group: str, plural: str, name: str, why: str) -> "ApiError":
        resource = f"{plural}.{group}" if group else plural
        return cls(
            409,
            f'Operation cannot be fulfilled on {resource} "{name}": {why}',
            "Conflict",
            {"name": name, "group": group, "kind": plural},
        )

    @classmethod
    def invalid(cls, message: str, kind: str = "", name: str = "") -> "ApiError":
        prefix = f'{kind} "{name}" is invalid: ' if kind else ""
        return cls(422, prefix + message, "Invalid", {"name": name, "kind": kind})

    @classmethod
    def bad_request(cls, message: str) -> "ApiError":
        return cls(400, message)
