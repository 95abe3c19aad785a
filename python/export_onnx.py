"""Exports a policy model (Hugging Face format) to ONNX for onnxruntime-node, with a reference to check it.

    python python/export_onnx.py --model DIR --out DIR [--check-data sft_eval.jsonl] [--check-n 4]

Writes into --out:
  model.onnx       inputs input_ids, attention_mask (int64, [batch, sequence]); output logits
                   (float32, [batch, sequence, vocab]); dynamic batch and sequence; weights inline
  tokenizer.json, tokenizer_config.json, chat_template.jinja   the model's tokenizer, for the server
  policy.json      what the server needs to score a decision: the verdict token ids (the first token of
                   "APPROVE" / "FLAG" after the generation prompt), pad/eos ids, the vocabulary size
  reference.json   (with --check-data) a few rendered prompts with their input_ids and PyTorch's logits at
                   the last position, so a test can require onnxruntime to give the same numbers

Uses torch.onnx.export's dynamo exporter (needs `onnx` and `onnxscript`, both in requirements/oumi.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_policy import load_conversations, verdict_token_ids  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check-data", type=Path, help="SFT conversations to build reference.json from")
    parser.add_argument("--check-n", type=int, default=4)
    parser.add_argument("--opset", type=int, default=18)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()

    class NextTokenLogits(torch.nn.Module):
        """input_ids, attention_mask -> logits; no KV cache, positions from the mask."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                              use_cache=False).logits

    wrapper = NextTokenLogits(model).eval()
    example = tokenizer(["<|im_start|>user\nx<|im_end|>\n", "<|im_start|>assistant\n"], add_special_tokens=False,
                        padding=True, return_tensors="pt")
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "model.onnx"
    torch.onnx.export(
        wrapper,
        (example["input_ids"], example["attention_mask"]),
        str(onnx_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
        opset_version=args.opset,
        dynamo=True,
        external_data=False,
    )

    tokenizer.save_pretrained(args.out)
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        if (args.out / name).exists():
            continue
        if (args.model / name).exists():
            shutil.copy(args.model / name, args.out / name)
    ids = verdict_token_ids(tokenizer)
    policy = {
        "format": "causal-lm-verdict/v1",
        "verdict_token_ids": ids,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "vocab_size": model.config.vocab_size,
        "inputs": ["input_ids", "attention_mask"],
        "output": "logits",
        "opset": args.opset,
    }
    (args.out / "policy.json").write_text(json.dumps(policy, indent=2) + "\n")

    summary = {"out": str(args.out), "onnx_bytes": onnx_path.stat().st_size, "verdict_token_ids": ids}
    if args.check_data:
        conversations = load_conversations(args.check_data)[: args.check_n]
        cases = []
        with torch.inference_mode():
            for prompt, label in conversations:
                text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
                input_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
                tensor = torch.tensor([input_ids])
                logits = wrapper(tensor, torch.ones_like(tensor))[0, -1]
                cases.append({"prompt": text, "label": label, "input_ids": input_ids,
                              "last_logits": [float(x) for x in logits]})
        (args.out / "reference.json").write_text(json.dumps({"cases": cases}) + "\n")
        summary["reference_cases"] = len(cases)
    summary["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
