"""Evaluates a policy model (Hugging Face format) on held-out conversations, against the R-APPROVAL-TARGETS targets.

    python python/evaluate_policy.py --model DIR --data sft_eval.jsonl --out metrics.json
        [--threshold 0.5 | --calibrate sft_val.jsonl [--fnr-bound 0.02]] [--adjudicated sft_eval_adjudicated.jsonl]
        [--batch-size 32] [--predictions predictions.jsonl]
    python python/evaluate_policy.py --model DIR --score prompts.jsonl --predictions predictions.jsonl

With --score, the lines are prompts without an answer ({"messages": [system, user]}: unlabelled decisions, e.g.
the judge stage's pool) and only {"p_approve"} per line is written; the printed object counts them.

Each line of --data is an SFT conversation (system, user, assistant); the human label is the assistant's
first word (APPROVE = the decision was good, FLAG = bad). The model is not asked to generate: the prompt
is rendered with the model's own chat template and the generation prompt, and the verdict is read from the
next-token logits of the first token of "APPROVE" against that of "FLAG" (the same scoring the inference
server does with the ONNX export): p_approve = softmax over those two logits; approve when
p_approve >= threshold.

Positive class = APPROVE (the action is executed automatically). Metrics:
  accuracy; FPR = FP / (FP + TN), bad decisions approved ("unnecessary actions taken");
  FNR = FN / (FN + TP), good decisions flagged ("missed actions"); override rate = FP / (TP + FP), the share
  of auto-approved items where the human label disagrees; the confusion matrix.
Writes one JSON object (also printed) with the metrics, the targets and whether each is met.

With --calibrate, the threshold is not given but chosen on that validation split (never on --data): the
largest threshold whose validation FNR stays below --fnr-bound (seed 003's FNR target first), which makes
the FPR as small as that bound allows; the object's `calibration` says what it found there. With
--adjudicated, the same model and threshold are also measured on the eval split relabelled by the
reviewing rule without label noise (an expert panel's gold set); its metrics are under `adjudicated`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

VERDICTS = ("APPROVE", "FLAG")
# Seed 003 targets: (metric, comparison, bound).
TARGETS = {
    "accuracy": (">", 0.90),
    "fpr": ("<", 0.05),
    "fnr": ("<", 0.02),
    "override_rate": ("<", 0.10),
}


def load_conversations(path: Path, answered: bool = True) -> list[tuple[list[dict], str | None]]:
    """(prompt messages, verdict) per line; with answered=False the lines are prompts without an answer (verdict None)."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                messages = json.loads(line)["messages"]
                prompt = [m for m in messages if m["role"] != "assistant"]
                answers = [m["content"] for m in messages if m["role"] == "assistant"]
                if answered and not answers:
                    raise ValueError("no assistant answer")
                if not answered and (answers or not prompt):
                    raise ValueError("an answer, or no message")
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                shape = "[..., assistant]" if answered else "[system, user] without an answer"
                raise SystemExit(f"{path} line {number}: expected {{\"messages\": {shape}}} ({error!r})")
            if not answered:
                items.append((prompt, None))
                continue
            verdict = answers[0].split("\n", 1)[0].strip()
            if verdict not in VERDICTS:
                raise SystemExit(f"{path} line {number}: assistant answer starts with {verdict!r}, expected APPROVE or FLAG")
            items.append((prompt, verdict))
    if answered and not items:
        raise SystemExit(f"{path}: no conversations")
    return items


def score_only(args) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    prompts = load_conversations(args.score, answered=False)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()
    probs = score(model, tokenizer, prompts, args.batch_size) if prompts else []
    args.predictions.parent.mkdir(parents=True, exist_ok=True)
    with args.predictions.open("w") as handle:
        for p in probs:
            handle.write(json.dumps({"p_approve": p}) + "\n")
    summary = {"model": str(args.model), "data": str(args.score), "n": len(probs),
               "mean_p_approve": sum(probs) / len(probs) if probs else None, "seconds": round(time.monotonic() - started, 3)}
    print(json.dumps(summary))
    return 0


def verdict_token_ids(tokenizer) -> dict[str, int]:
    """The first token of each verdict as it follows the generation prompt."""
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False, add_generation_prompt=True)
    base = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = {}
    for verdict in VERDICTS:
        full = tokenizer(prompt + verdict, add_special_tokens=False)["input_ids"]
        if full[: len(base)] != base:
            raise SystemExit(f"tokenizer: the generation prompt does not tokenize the same before {verdict!r}")
        ids[verdict] = full[len(base)]
    if ids["APPROVE"] == ids["FLAG"]:
        raise SystemExit("tokenizer: APPROVE and FLAG start with the same token; cannot score the verdict")
    return ids


def confusion_metrics(labels: list[str], approve_probs: list[float], threshold: float) -> dict:
    tp = fp = tn = fn = 0
    for label, p in zip(labels, approve_probs):
        approved = p >= threshold
        if approved and label == "APPROVE":
            tp += 1
        elif approved:
            fp += 1
        elif label == "FLAG":
            tn += 1
        else:
            fn += 1
    n = tp + fp + tn + fn

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    metrics = {
        "n": n,
        "accuracy": (tp + tn) / n,
        "fpr": ratio(fp, fp + tn),
        "fnr": ratio(fn, fn + tp),
        "override_rate": ratio(fp, tp + fp) if tp + fp else 0.0,
        "approve_rate": (tp + fp) / n,
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
    }
    gates = {}
    for name, (op, bound) in TARGETS.items():
        value = metrics[name]
        passed = value is not None and (value > bound if op == ">" else value < bound)
        gates[name] = {"value": value, "target": f"{op} {bound}", "passed": passed}
    metrics["gates"] = gates
    metrics["passed"] = all(g["passed"] for g in gates.values())
    return metrics


def calibrate_threshold(labels: list[str], approve_probs: list[float], fnr_bound: float) -> float:
    """The largest threshold t such that FNR(t) = #(good with p < t) / #good stays strictly below
    fnr_bound. FNR only grows and FPR only shrinks with t, so this t has the smallest FPR the bound allows.
    Ties: every good item with p equal to t is approved (p >= t), so the count below t is exact."""
    good = sorted(p for label, p in zip(labels, approve_probs) if label == "APPROVE")
    if not good:
        raise SystemExit("--calibrate: the validation split has no APPROVE items; the FNR bound cannot be calibrated")
    if not 0 < fnr_bound < 1:
        raise SystemExit(f"--fnr-bound must be in (0, 1), got {fnr_bound}")
    # The most good items that may fall below t: k with k / n < bound.
    allowed = 0
    while (allowed + 1) / len(good) < fnr_bound:
        allowed += 1
    t = good[allowed]
    # A threshold of exactly 0 or 1 is outside what the server accepts; the nearest inside keeps the same verdicts
    # for every p the model can produce in float32.
    return min(max(t, 1e-9), 1 - 1e-9)


def score(model, tokenizer, conversations, batch_size: int) -> list[float]:
    import torch

    ids = verdict_token_ids(tokenizer)
    approve, flag = ids["APPROVE"], ids["FLAG"]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    probs: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(conversations), batch_size):
            batch = conversations[start : start + batch_size]
            encoded = [
                tokenizer(tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True),
                          add_special_tokens=False)["input_ids"]
                for prompt, _ in batch
            ]
            width = max(len(e) for e in encoded)
            # Left padding, so the last position is every row's next token; positions count real tokens only.
            input_ids = torch.tensor([[pad] * (width - len(e)) + e for e in encoded])
            attention_mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in encoded])
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
            logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits[:, -1, :]
            pair = torch.stack([logits[:, approve], logits[:, flag]], dim=-1).float()
            probs.extend(torch.softmax(pair, dim=-1)[:, 0].tolist())
    return probs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, help="SFT conversations (sft_eval.jsonl)")
    parser.add_argument("--out", type=Path, help="metrics JSON to write")
    parser.add_argument("--score", type=Path, help="prompts without answers: write only p_approve per line to --predictions")
    parser.add_argument("--threshold", type=float, default=None, help="approve when p_approve >= this (default 0.5)")
    parser.add_argument("--calibrate", type=Path, help="SFT conversations of a validation split: choose the threshold there")
    parser.add_argument("--fnr-bound", type=float, default=TARGETS["fnr"][1], help="the FNR the calibrated threshold keeps below on validation")
    parser.add_argument("--adjudicated", type=Path, help="the eval split relabelled without label noise: measured too, under `adjudicated`")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--predictions", type=Path, help="optional JSONL of (label, p_approve) per item")
    args = parser.parse_args(argv)
    if args.score is not None:
        extra = [flag for flag, value in (("--data", args.data), ("--out", args.out), ("--threshold", args.threshold), ("--calibrate", args.calibrate), ("--adjudicated", args.adjudicated)) if value is not None]
        if extra:
            raise SystemExit(f"--score scores unlabelled prompts; {', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to it")
        if args.predictions is None:
            raise SystemExit("--score needs --predictions (where p_approve per prompt is written)")
        return score_only(args)
    if args.data is None or args.out is None:
        raise SystemExit("--data and --out are required (or --score with --predictions)")
    if args.threshold is not None and args.calibrate is not None:
        raise SystemExit("--threshold and --calibrate: give one (a fixed threshold, or a validation split to choose it on)")
    if args.threshold is None and args.calibrate is None:
        args.threshold = 0.5
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise SystemExit(f"--threshold must be in (0, 1), got {args.threshold}")

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    started = time.monotonic()
    conversations = load_conversations(args.data)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()
    calibration = None
    if args.calibrate is not None:
        validation = load_conversations(args.calibrate)
        val_labels = [verdict for _, verdict in validation]
        val_probs = score(model, tokenizer, validation, args.batch_size)
        args.threshold = calibrate_threshold(val_labels, val_probs, args.fnr_bound)
        at = confusion_metrics(val_labels, val_probs, args.threshold)
        calibration = {"data": str(args.calibrate), "n": at["n"], "fnr_bound": args.fnr_bound, "threshold": args.threshold,
                       "accuracy": at["accuracy"], "fpr": at["fpr"], "fnr": at["fnr"], "override_rate": at["override_rate"]}
    probs = score(model, tokenizer, conversations, args.batch_size)
    labels = [verdict for _, verdict in conversations]
    metrics = confusion_metrics(labels, probs, args.threshold)
    if calibration is not None:
        metrics["calibration"] = calibration
    if args.adjudicated is not None:
        gold = load_conversations(args.adjudicated)
        if [prompt for prompt, _ in gold] != [prompt for prompt, _ in conversations]:
            raise SystemExit(f"--adjudicated {args.adjudicated}: expected the same prompts as --data {args.data}, in the same order, relabelled")
        adjudicated = confusion_metrics([verdict for _, verdict in gold], probs, args.threshold)
        adjudicated.update({"data": str(args.adjudicated), "relabelled": sum(1 for (_, a), (_, b) in zip(gold, conversations) if a != b)})
        metrics["adjudicated"] = adjudicated
    metrics.update({
        "model": str(args.model),
        "data": str(args.data),
        "threshold": args.threshold,
        "mean_p_approve": sum(probs) / len(probs),
        "seconds": round(time.monotonic() - started, 3),
    })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n")
    if args.predictions:
        with args.predictions.open("w") as handle:
            for label, p in zip(labels, probs):
                handle.write(json.dumps({"label": label, "p_approve": p}) + "\n")
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
