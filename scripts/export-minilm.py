"""all-MiniLM-L6-v2 → ONNX: the BERT encoder, mean pooling over the attention mask and L2 normalisation in one
graph (inputs input_ids, attention_mask: int64 [batch, seq]; output embedding: float32 [batch, 384]), as
sentence-transformers computes it. Run with the Oumi venv's Python (PyTorch + transformers):

    .venv-oumi/bin/python scripts/export-minilm.py SRC_MODEL_DIR OUT_DIR

Writes OUT_DIR/model.onnx, copies tokenizer.json, tokenizer_config.json and config.json, and writes
OUT_DIR/reference.json: token ids and embeddings of a few sentences computed by PyTorch, which the
TypeScript side's test compares with onnxruntime-node + @huggingface/tokenizers.
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

REFERENCE = [
    "How do I reset my password?",
    "how can i reset my password",
    "What is the capital of France?",
    "Ünïcödé text — with dashes, and numbers 12345!",
]


class SentenceEncoder(torch.nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2, dim=1)


def main(src: str, out: str) -> None:
    src_dir, out_dir = Path(src), Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(src_dir).eval()
    encoder = SentenceEncoder(bert).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        encoder, (ids, torch.ones_like(ids)), str(out_dir / "model.onnx"),
        input_names=["input_ids", "attention_mask"], output_names=["embedding"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "embedding": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        shutil.copyfile(src_dir / name, out_dir / name)
    tok = AutoTokenizer.from_pretrained(src_dir)
    with torch.no_grad():
        batch = tok(REFERENCE, padding=True, return_tensors="pt")
        emb = encoder(batch["input_ids"], batch["attention_mask"])
    ref = {"texts": REFERENCE, "ids": [tok(t)["input_ids"] for t in REFERENCE], "embeddings": emb.tolist()}
    (out_dir / "reference.json").write_text(json.dumps(ref))
    print(f"exported {out_dir / 'model.onnx'} ({(out_dir / 'model.onnx').stat().st_size} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: export-minilm.py SRC_MODEL_DIR OUT_DIR")
    main(sys.argv[1], sys.argv[2])
