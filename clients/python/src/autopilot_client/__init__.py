"""Client for the Autopilot inference server: ``decide`` and ``reward``/``rewards``, standard library only."""
from .client import (
    AutopilotClient,
    AutopilotError,
    AutopilotTimeoutError,
    Decision,
    RewardBatchResult,
    RewardItemResult,
    RewardResult,
)

__all__ = [
    "AutopilotClient",
    "AutopilotError",
    "AutopilotTimeoutError",
    "Decision",
    "RewardBatchResult",
    "RewardItemResult",
    "RewardResult",
]
