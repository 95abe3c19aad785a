"""Builds a tiny causal language model for the policy-model pipeline, entirely offline.

    python python/build_tiny_model.py --corpus data.jsonl [--corpus more.txt] --out DIR [--seed 7]

* The tokenizer is a byte-level BPE (the GPT-2 / SmolLM2 family) trained on OUR corpus: the SFT
  conversations (`{"messages": [...]}` lines) and/or plain-text files. It is saved as a Hugging Face
  fast tokenizer with a ChatML chat template (the template SmolLM2 and Qwen use), so the same Oumi
  configs and the same prompt renderer work for this model and for a real base model.
  Two choices make the facts the policy decides on cheap to read (`--fact-min-count 0` and
  `--no-split-digits` turn them off):
    - fact tokens: every snake_case identifier and `key=value` / `key=` fact of the corpus seen at least
      `--fact-min-count` times (` traffic_drop`, ` recent_deploy=no`, ` confidence=`, with and without the
      leading space) is one added token, so an anomaly kind, an action or an analysis flag is one token
      instead of three to five byte-level pieces;
    - digits: the BPE learns no merge between digits, so `0.38` is `0 . 3 8` and the first digit after
      the point decides a comparison with 0.40 (a whole-number token would need each of 100 values learnt).
  Both stay within what the inference server's tokenizer reads (inference/text-policy/tokenizer.ts): the
  saved pre-tokenizer is the plain byte-level one, and fact tokens are ordinary added tokens.
* The model is a Llama-architecture decoder with random (seeded) weights and tied embeddings:
  a few hundred thousand parameters by default (`--hidden-size`, `--layers`, `--heads` size it).

Nothing is downloaded: HF_HUB_OFFLINE=1 is set before transformers is imported.
Prints one JSON line with the output directory, the parameter count and the vocabulary size.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from pathlib import Path
from typing import Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Special tokens: ChatML turn markers; <|im_end|> ends every turn and is the EOS token.
ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

# ChatML: `<|im_start|>{role}\n{content}<|im_end|>\n` per message, and `<|im_start|>assistant\n` as
# the generation prompt. The `{% generation %}` block marks the assistant's tokens so that
# completions-only training (Oumi's `assistant_only`) needs no response/instruction templates.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- generation -%}{{ message['content'] + '<|im_end|>' }}{%- endgeneration -%}"
    "{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


def corpus_texts(paths: list[Path]) -> Iterator[str]:
    """Yields training text: every message's content of `.jsonl` conversation files (and the
    rendered ChatML turn markers), or every line of other files."""
    for path in paths:
        if not path.is_file():
            raise SystemExit(f"--corpus {path}: no such file")
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if path.suffix == ".jsonl":
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise SystemExit(f"{path}:{number}: not JSON ({error})") from error
                    messages = record.get("messages") if isinstance(record, dict) else None
                    if isinstance(messages, list):
                        for message in messages:
                            yield f"{message.get('role', '')}\n{message.get('content', '')}"
                        continue
                    # Preference pairs and other JSON lines: every string value.
                    for value in record.values() if isinstance(record, dict) else []:
                        if isinstance(value, str):
                            yield value
                else:
                    yield line.rstrip("\n")


# A fact of the prompt: a snake_case identifier with its value when it has one (` recent_deploy=no`,
# ` traffic_drop`), a `key=value` pair (` risk=high`) or a key before a number (` confidence=`).
FACT = re.compile(r" ?[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:=[a-z_]+)?| ?[a-z]+=[a-z_]+| ?[a-z_]+=(?=[0-9])")


def fact_tokens(paths: list[Path], min_count: int) -> list[str]:
    """The corpus's facts seen at least min_count times, longest first (the order matching prefers)."""
    if min_count <= 0:
        return []
    counts = collections.Counter()
    for text in corpus_texts(paths):
        counts.update(FACT.findall(text))
    return sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-len(w), w))


def train_tokenizer(paths: list[Path], vocab_size: int, fact_min_count: int = 0, split_digits: bool = False):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    # Training only: digits one by one, so no merge joins two digits. The saved pre-tokenizer is the plain
    # byte-level one; without digit merges it still encodes every digit on its own.
    tokenizer.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
                               if split_digits else byte_level)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[ENDOFTEXT, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus_texts(paths), trainer=trainer)
    tokenizer.pre_tokenizer = byte_level
    # After training, so they take the ids after the BPE vocabulary (added before, the trainer's special
    # tokens would take the first three facts' ids).
    tokenizer.add_tokens(fact_tokens(paths, fact_min_count))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=IM_START,
        eos_token=IM_END,
        unk_token=ENDOFTEXT,
        pad_token=ENDOFTEXT,
        model_max_length=1024,
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer, args: argparse.Namespace):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(args.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden_size,
        intermediate_size=args.hidden_size * 2,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.heads,
        max_position_embeddings=args.max_positions,
        rms_norm_eps=1e-5,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", type=Path, required=True,
                        help="training text for the tokenizer: conversation .jsonl or plain text; repeatable")
    parser.add_argument("--out", type=Path, required=True, help="output directory (Hugging Face format)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vocab-size", type=int, default=1024)
    parser.add_argument("--fact-min-count", type=int, default=5,
                        help="facts seen this often in the corpus become whole tokens; 0: none")
    parser.add_argument("--no-split-digits", dest="split_digits", action="store_false",
                        help="let the BPE merge digits into multi-digit tokens")
    parser.add_argument("--hidden-size", type=int, default=96)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--max-positions", type=int, default=1024)
    args = parser.parse_args(argv)

    tokenizer = train_tokenizer(args.corpus, args.vocab_size, args.fact_min_count, args.split_digits)
    # The inference server scores the first assistant token: the two verdicts must start differently.
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False,
                                           add_generation_prompt=True)
    base = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    first = {}
    for verdict in ("APPROVE", "FLAG"):
        ids = tokenizer(prompt + verdict, add_special_tokens=False)["input_ids"]
        first[verdict] = ids[base]
    if first["APPROVE"] == first["FLAG"]:
        raise SystemExit("tokenizer: APPROVE and FLAG start with the same token; the corpus lacks them")

    model = build_model(tokenizer, args)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    print(json.dumps({
        "out": str(args.out),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tokenizer),
        "fact_tokens": len(tokenizer.get_added_vocab()) - 3,
        "verdict_token_ids": first,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
