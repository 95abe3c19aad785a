"""autopilot_client against a real inference server. Run by clients/python/python-sdk.int.test.ts, which
starts the server (auth on, PostgreSQL, Redis) and sets:

  AUTOPILOT_URL            the server
  AUTOPILOT_SLOW_URLS      two proxies of it, each delaying its next answer by 1.5 s (comma-separated)
  AUTOPILOT_API_KEY        an admin key
  AUTOPILOT_EXCHANGES      a file to write every request body and answer to (checked with the server's
                           wire schemas by the jest side), one JSON object per line
  AUTOPILOT_RETRIED        a file to write the decision ids of the retried rewards to (the jest side
                           checks the bandit learner and the rewards table counted each once)

Deployments: ``ranker`` (an ONNX policy, 16 features) and ``coin`` (a Beta-TS bandit).
"""
import json
import os
import socket
import unittest
import uuid
from dataclasses import dataclass

from autopilot_client import AutopilotClient, AutopilotError, AutopilotTimeoutError, Decision

URL = os.environ["AUTOPILOT_URL"]
SLOW = os.environ["AUTOPILOT_SLOW_URLS"].split(",")
KEY = os.environ["AUTOPILOT_API_KEY"]
X = [((i * 7) % 10) / 10 - 0.4 for i in range(16)]


@dataclass(frozen=True)
class RagAction:
    variant: str
    k: int
    rerank: bool
    fusion_weight: float
    prompt_id: int


def recording(client: AutopilotClient) -> AutopilotClient:
    """Writes every exchange of ``client`` to AUTOPILOT_EXCHANGES (observation only: the request goes out as is)."""
    post = client._post

    def _post(path, body, safe, what):
        status, answer, attempts = post(path, body, safe, what)
        with open(os.environ["AUTOPILOT_EXCHANGES"], "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": path, "sent": body, "status": status, "answer": answer}) + "\n")
        return status, answer, attempts

    client._post = _post  # type: ignore[method-assign]
    return client


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = recording(AutopilotClient(URL, api_key=KEY))

    def test_decide_then_reward_with_a_typed_action(self) -> None:
        d = self.client.decide("ranker", X, action_type=RagAction)
        self.assertIsInstance(d, Decision)
        self.assertIsInstance(d.action, RagAction)
        self.assertIsInstance(d.action.k, int)
        self.assertEqual((d.model, d.arm, d.fallback), ("ranker", "champion", False))
        first = self.client.reward(d.decision_id, 0.75)
        self.assertEqual((first.status, first.duplicate, first.attempts), (201, False, 1))
        again = self.client.reward(d.decision_id, 0.75)
        self.assertEqual((again.status, again.duplicate), (200, True))
        b = self.client.decide("coin")
        self.assertIn(b.arm_index, (0, 1))
        self.assertEqual(self.client.reward(b.decision_id, 1).arm, b.arm)

    def test_batch_rewards_one_outcome_each(self) -> None:
        ds = [self.client.decide("ranker", X) for _ in range(3)]
        unknown = str(uuid.uuid4())
        r = self.client.rewards([
            {"decision_id": ds[0].decision_id, "reward": 1},
            {"decision_id": ds[1].decision_id, "reward": 0, "components": {"quality": 0.5}},
            {"decision_id": unknown, "reward": 1},
            {"decision_id": ds[2].decision_id, "reward": 2e6},
        ])
        self.assertEqual([o.status for o in r.results], [201, 201, 404, 400])
        self.assertEqual((r.accepted, r.recorded, r.duplicates, r.rejected), (2, 2, 0, 2))
        self.assertEqual(r.results[2].field, "rewards.2.decisionId")
        self.assertEqual(r.results[3].field, "rewards.3.reward")
        self.assertEqual(r.results[3].expected, "a number in [-1000000, 1000000]")
        split = recording(AutopilotClient(URL, api_key=KEY, max_batch=2)).rewards([{"decisionId": d.decision_id, "reward": 1} for d in ds])
        self.assertEqual([o.status for o in split.results], [200, 409, 201])
        self.assertEqual(split.attempts, 2)

    def test_retried_rewards_counted_once(self) -> None:
        d = self.client.decide("coin")
        slow = recording(AutopilotClient(SLOW[0], api_key=KEY, timeout=0.4, retries=2, retry_delay=0.01))
        r = slow.reward(d.decision_id, 1)
        self.assertEqual((r.status, r.duplicate, r.attempts), (200, True, 2))
        ds = [self.client.decide("coin") for _ in range(2)]
        slow_batch = recording(AutopilotClient(SLOW[1], api_key=KEY, timeout=0.4, retries=2, retry_delay=0.01))
        b = slow_batch.rewards([{"decision_id": e.decision_id, "reward": 0} for e in ds])
        self.assertEqual((b.accepted, b.duplicates, b.rejected, b.attempts), (2, 2, 0, 2))
        with open(os.environ["AUTOPILOT_RETRIED"], "w", encoding="utf-8") as f:
            json.dump([d.decision_id] + [e.decision_id for e in ds], f)
        # Without retries the timeout surfaces as such: a listener that never answers.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            with self.assertRaises(AutopilotTimeoutError):
                AutopilotClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.2, retries=0).reward(d.decision_id, 1)

    def test_errors_carry_the_servers_field_and_expected(self) -> None:
        with self.assertRaises(AutopilotError) as bad:
            self.client.decide("ranker", [1, 2, 3])
        self.assertEqual((bad.exception.status, bad.exception.field), (400, "features"))
        self.assertIn("16", bad.exception.expected)
        self.assertRegex(str(bad.exception), r"^decide ranker: 400 .*\(field features; expected .*16")
        unknown = str(uuid.uuid4())
        with self.assertRaises(AutopilotError) as nf:
            self.client.reward(unknown, 1)
        self.assertEqual((nf.exception.status, nf.exception.field), (404, "decisionId"))
        self.assertIn(f"decision {unknown} not found", str(nf.exception))
        d = self.client.decide("ranker", X)
        self.client.reward(d.decision_id, 0.5)
        with self.assertRaises(AutopilotError) as conflict:
            self.client.reward(d.decision_id, 0.25)
        self.assertEqual((conflict.exception.status, conflict.exception.field), (409, "reward"))
        self.assertIn("already recorded", conflict.exception.expected)
        with self.assertRaises(AutopilotError) as unauth:
            AutopilotClient(URL, api_key="ap_not_a_key").decide("ranker", X)
        self.assertEqual(unauth.exception.status, 401)
        with self.assertRaises(ValueError):
            AutopilotClient("localhost:8080")


if __name__ == "__main__":
    unittest.main()
