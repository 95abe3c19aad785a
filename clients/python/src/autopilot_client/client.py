"""The two calls of the Autopilot inference server: ``decide`` (which action to take) and ``reward`` /
``rewards`` (how it went). Standard library only (``urllib``).

Retries and idempotency: a reward is recorded once per decision (the server answers 201 the first time,
200 ``duplicate`` for the same reward again, 409 for a different one), so the decision id is the
idempotency key. A reward whose request timed out or failed (network error, 429, 5xx) is sent again with
the same body: if the first attempt reached the server, the retry is answered 200 and counted once. A
batch is retried as a whole when the request failed, and only its items answered 5xx when it was
answered. ``decide`` is retried only when the server certainly made no decision (connection refused,
429, 503): a timed-out decide may have been answered and logged, so it is not sent twice.

Errors: every refusal is an :class:`AutopilotError` carrying the server's ``error``, ``field`` and
``expected``.
"""
from __future__ import annotations

import dataclasses
import json
import random
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Sequence, TypeVar, Union, overload

A = TypeVar("A")

Features = Union[Sequence[float], Mapping[str, Union[float, str]]]


class AutopilotError(Exception):
    """A request the server refused or could not answer."""

    def __init__(self, message: str, status: Optional[int] = None, field: Optional[str] = None,
                 expected: Optional[str] = None, error_id: Optional[str] = None, body: Any = None) -> None:
        super().__init__(message)
        #: HTTP status; None when no answer came (timeout, network).
        self.status = status
        self.field = field
        self.expected = expected
        #: 5xx: the id the server logged the cause under.
        self.error_id = error_id
        self.body = body


class AutopilotTimeoutError(AutopilotError):
    """No answer within ``timeout`` seconds (after the retries)."""


@dataclass(frozen=True)
class Decision(Generic[A]):
    """A decision. ``action`` is the server's JSON action, or what ``action_type`` made of it."""

    decision_id: str
    model: str
    version: Optional[int]
    #: ``champion``, ``canary``, ``fallback`` or a bandit arm's name.
    arm: str
    action: A
    #: Probability of the action under the serving policy (OBP's pscore).
    propensity: float
    #: Probability of the arm (the canary split).
    arm_probability: float
    fallback: bool
    density: Optional[float] = None
    arm_index: Optional[int] = None
    state_seq: Optional[float] = None
    approve: Optional[bool] = None
    confidence: Optional[float] = None
    p_approve: Optional[float] = None
    #: The answer as sent.
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class RewardResult:
    decision_id: str
    #: True when this reward was already recorded (by an earlier call, or by an attempt of this one whose answer was lost).
    duplicate: bool
    #: 201 recorded now, 200 recorded before.
    status: int
    reward: Optional[float] = None
    arm: Optional[str] = None
    #: HTTP attempts the call made (1 without retries).
    attempts: int = 1


@dataclass(frozen=True)
class RewardItemResult:
    """The outcome of one reward of a batch: the status a single reward would have been answered."""

    decision_id: Optional[str]
    status: int
    accepted: bool
    duplicate: bool
    reward: Optional[float] = None
    arm: Optional[str] = None
    error: Optional[str] = None
    field: Optional[str] = None
    expected: Optional[str] = None
    error_id: Optional[str] = None


@dataclass(frozen=True)
class RewardBatchResult:
    results: List[RewardItemResult]
    accepted: int
    recorded: int
    duplicates: int
    rejected: int
    attempts: int


def _item(d: Mapping[str, Any]) -> RewardItemResult:
    return RewardItemResult(
        decision_id=d.get("decisionId"), status=d["status"], accepted=d["accepted"], duplicate=d["duplicate"],
        reward=d.get("reward"), arm=d.get("arm"), error=d.get("error"), field=d.get("field"),
        expected=d.get("expected"), error_id=d.get("errorId"),
    )


def _error(status: int, body: Any, what: str) -> AutopilotError:
    b = body if isinstance(body, dict) else {}
    error = b.get("error") if isinstance(b.get("error"), str) else f"HTTP {status}"
    fld = b.get("field") if isinstance(b.get("field"), str) else None
    expected = b.get("expected") if isinstance(b.get("expected"), str) else None
    detail = "; ".join(x for x in (f"field {fld}" if fld else None, f"expected {expected}" if expected else None) if x)
    return AutopilotError(f"{what}: {status} {error}" + (f" ({detail})" if detail else ""), status, fld, expected,
                          b.get("errorId") if isinstance(b.get("errorId"), str) else None, body)


def _is_timeout(err: BaseException) -> bool:
    reason = getattr(err, "reason", err)
    return isinstance(err, (socket.timeout, TimeoutError)) or isinstance(reason, (socket.timeout, TimeoutError))


def _unsent(err: BaseException) -> bool:
    """Did the request certainly not reach the server?"""
    reason = getattr(err, "reason", err)
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


class AutopilotClient:
    """A client of one inference server.

    ``api_key`` is sent as ``Authorization: Bearer <key>``; ``timeout`` is per attempt, in seconds;
    ``retries`` the attempts after the first; ``retry_delay`` the first wait before a retry (doubled each
    time, with jitter; a ``Retry-After`` is honoured up to ``max_retry_delay``); ``max_batch`` the rewards
    per request of :meth:`rewards` (larger lists are split; the server's default limit is 500).
    """

    def __init__(self, base_url: str, api_key: Optional[str] = None, timeout: float = 5.0, retries: int = 2,
                 retry_delay: float = 0.1, max_retry_delay: float = 5.0, max_batch: int = 500) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url: got {base_url!r}; expected the server's http(s) URL, e.g. http://127.0.0.1:8080")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout: got {timeout!r}; expected a positive number of seconds")
        if not (isinstance(retries, int) and retries >= 0):
            raise ValueError(f"retries: got {retries!r}; expected an integer >= 0")
        if not (isinstance(max_batch, int) and max_batch >= 1):
            raise ValueError(f"max_batch: got {max_batch!r}; expected an integer >= 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.retries = retries
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.max_batch = max_batch
        self._headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key is not None:
            self._headers["authorization"] = f"Bearer {api_key}"

    # ---- the two calls ----

    @overload
    def decide(self, deployment: str, features: Optional[Features] = None, *, text: Optional[str] = None,
               snapshot: Optional[Mapping[str, Any]] = None, unit: Optional[str] = None, explore: Optional[bool] = None,
               action_type: None = None) -> Decision[Any]: ...

    @overload
    def decide(self, deployment: str, features: Optional[Features] = None, *, text: Optional[str] = None,
               snapshot: Optional[Mapping[str, Any]] = None, unit: Optional[str] = None, explore: Optional[bool] = None,
               action_type: Callable[..., A]) -> Decision[A]: ...

    def decide(self, deployment: str, features: Optional[Features] = None, *, text: Optional[str] = None,
               snapshot: Optional[Mapping[str, Any]] = None, unit: Optional[str] = None, explore: Optional[bool] = None,
               action_type: Optional[Callable[..., Any]] = None) -> Decision[Any]:
        """Asks ``deployment`` for a decision. ``action_type`` types the action: a dataclass (or any class
        taking the action's keys as keyword arguments) or a function of the action's JSON."""
        body: Dict[str, Any] = {"deployment": deployment}
        if features is not None:
            body["features"] = features if isinstance(features, Mapping) else list(features)
        for key, value in (("text", text), ("snapshot", snapshot), ("unit", unit), ("explore", explore)):
            if value is not None:
                body[key] = value
        status, answer, _ = self._post("/v1/decide", body, safe=False, what=f"decide {deployment}")
        if status != 200:
            raise _error(status, answer, f"decide {deployment}")
        action = answer.get("action")
        if action_type is not None and action is not None:
            action = action_type(**action) if dataclasses.is_dataclass(action_type) and isinstance(action, dict) else action_type(action)
        return Decision(
            decision_id=answer["decisionId"], model=answer["model"], version=answer.get("version"), arm=answer["arm"],
            action=action, propensity=answer["propensity"], arm_probability=answer["armProbability"],
            fallback=answer["fallback"], density=answer.get("density"), arm_index=answer.get("armIndex"),
            state_seq=answer.get("stateSeq"), approve=answer.get("approve"), confidence=answer.get("confidence"),
            p_approve=answer.get("pApprove"), raw=answer,
        )

    def reward(self, decision_id: str, reward: Optional[float] = None, components: Optional[Mapping[str, float]] = None) -> RewardResult:
        """Records the reward of a decision (a number, components for the deployment's reward spec, or both)."""
        body = self._reward_body(decision_id, reward, components)
        what = f"reward of decision {decision_id}"
        status, answer, attempts = self._post("/v1/rewards", body, safe=True, what=what)
        if status not in (200, 201):
            raise _error(status, answer, what)
        return RewardResult(decision_id=answer["decisionId"], duplicate=answer["duplicate"], status=status,
                            reward=answer.get("reward"), arm=answer.get("arm"), attempts=attempts)

    def rewards(self, rewards: Sequence[Mapping[str, Any]]) -> RewardBatchResult:
        """Records many rewards (``{"decision_id"|"decisionId", "reward"?, "components"?}`` each): one outcome
        per reward, in order; a refused reward (4xx) fails no other; items answered 5xx are sent again."""
        if not rewards:
            raise ValueError("rewards: expected a non-empty list of {decision_id, reward?, components?}")
        bodies = [self._reward_body(r.get("decision_id", r.get("decisionId")), r.get("reward"), r.get("components")) for r in rewards]
        results: List[Optional[RewardItemResult]] = [None] * len(bodies)
        attempts = 0
        for start in range(0, len(bodies), self.max_batch):
            todo = list(range(start, min(start + self.max_batch, len(bodies))))
            rnd = 0
            while todo:
                what = f"batch of {len(todo)} rewards"
                status, answer, n = self._post("/v1/rewards", {"rewards": [bodies[i] for i in todo]}, safe=True, what=what)
                attempts += n
                if status != 200:
                    raise _error(status, answer, what)
                for i, got in zip(todo, answer["results"]):
                    results[i] = _item(got)
                todo = [i for i in todo if results[i].status >= 500]  # type: ignore[union-attr]
                if rnd >= self.retries:
                    break
                if todo:
                    time.sleep(self._backoff(rnd, None))
                rnd += 1
        final = [r for r in results if r is not None]
        accepted = sum(1 for r in final if r.accepted)
        duplicates = sum(1 for r in final if r.duplicate)
        return RewardBatchResult(results=final, accepted=accepted, recorded=accepted - duplicates, duplicates=duplicates,
                                 rejected=len(final) - accepted, attempts=attempts)

    # ---- transport ----

    @staticmethod
    def _reward_body(decision_id: Any, reward: Optional[float], components: Optional[Mapping[str, float]]) -> Dict[str, Any]:
        if not isinstance(decision_id, str):
            raise ValueError(f"decision_id: got {decision_id!r}; expected the decision_id a decide call returned")
        body: Dict[str, Any] = {"decisionId": decision_id}
        if reward is not None:
            body["reward"] = reward
        if components is not None:
            body["components"] = dict(components)
        return body

    def _backoff(self, attempt: int, retry_after: Optional[str]) -> float:
        try:
            after = float(retry_after) if retry_after is not None else None
        except ValueError:
            after = None
        base = after if after is not None else self.retry_delay * (2 ** attempt) * (0.5 + random.random())
        return min(self.max_retry_delay, base)

    def _post(self, path: str, body: Any, safe: bool, what: str):
        data = json.dumps(body, allow_nan=False).encode("utf-8")
        attempt = 0
        while True:
            req = urllib.request.Request(self.base_url + path, data=data, headers=self._headers, method="POST")
            status: int
            raw: bytes
            retry_after: Optional[str] = None
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    status, raw = res.status, res.read()
            except urllib.error.HTTPError as err:
                status, raw = err.code, err.read()
                retry_after = err.headers.get("retry-after")
            except (urllib.error.URLError, OSError) as err:
                if attempt < self.retries and (safe or _unsent(err)):
                    time.sleep(self._backoff(attempt, None))
                    attempt += 1
                    continue
                if _is_timeout(err):
                    raise AutopilotTimeoutError(f"{what}: no answer within {self.timeout:g} s ({attempt + 1} attempt(s))") from err
                raise AutopilotError(f"{what}: {getattr(err, 'reason', err)}") from err
            retryable = status in (429, 503) or (safe and status >= 500)
            if retryable and attempt < self.retries:
                time.sleep(self._backoff(attempt, retry_after))
                attempt += 1
                continue
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                raise AutopilotError(f"{what}: {status} with a body that is not JSON: {raw[:200]!r}", status) from None
            return status, parsed, attempt + 1
