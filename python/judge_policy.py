"""Scores policy answers with Oumi's rubric judge (LLM-as-judge, seed 003).

Reads the resolved judge config (JSON written by activities/oumi/judge.ts) and a JSONL of answers, each
`{"request": <the incident and actions>, "response": <the policy's answer>}`; builds an Oumi
`JudgeConfig` with `rubric_judge_params` (one criterion per config criterion, each an ENUM of labelled
levels with scores) and an inference config for the judge model: Oumi's REMOTE engine against an
OpenAI-compatible chat-completions URL (the API key read by Oumi from the environment variable the config
names), or its NATIVE engine on a local model folder. `RubricJudge.judge_partial` judges every answer,
tolerating per-answer failures.

Writes one line per answer, in order, to --out:
  {"score": <aggregate or null>, "criteria": {"<id>": {"label", "score", "explanation"}}, "error": <str or null>}
and prints a JSON summary as its last stdout line.
"""

import argparse
import json
import sys
import time


def build_judge(cfg):
    from oumi.core.configs.inference_config import InferenceConfig
    from oumi.core.configs.inference_engine_type import InferenceEngineType
    from oumi.core.configs.judge_config import JudgeConfig
    from oumi.core.configs.params.generation_params import GenerationParams
    from oumi.core.configs.params.judge_params import (
        JudgeOutputType,
        JudgeParams,
        JudgeResponseFormat,
    )
    from oumi.core.configs.params.model_params import ModelParams
    from oumi.core.configs.params.remote_params import RemoteParams
    from oumi.core.configs.params.rubric_judge_params import (
        JudgeAggregation,
        JudgeCriterion,
        RubricJudgeParams,
    )
    from oumi.judges.rubric_judge import RubricJudge

    remote = cfg["engine"] == "remote"
    response_format = JudgeResponseFormat(cfg["responseFormat"])
    judge_params = JudgeParams(
        prompt_template=cfg["promptTemplate"],
        system_instruction=cfg["systemInstruction"],
        response_format=response_format,
        # Constrained JSON where the endpoint supports it (vLLM, OpenAI): the answer always parses.
        use_guided_decoding=remote and response_format == JudgeResponseFormat.JSON,
    )
    rubric = RubricJudgeParams(
        criteria=[
            JudgeCriterion(
                id=c["id"],
                description=c["description"],
                judgment_type=JudgeOutputType.ENUM,
                judgment_scores={label: float(s) for label, s in c["scores"].items()},
                include_explanation=True,
                weight=float(c["weight"]),
            )
            for c in cfg["criteria"]
        ],
        aggregation=JudgeAggregation(cfg["aggregation"]),
    )
    generation = GenerationParams(
        max_new_tokens=cfg["maxNewTokens"], temperature=cfg["temperature"], seed=0
    )
    if remote:
        inference = InferenceConfig(
            model=ModelParams(model_name=cfg["model"]),
            engine=InferenceEngineType.REMOTE,
            remote_params=RemoteParams(
                api_url=cfg["endpoint"],
                api_key_env_varname=cfg["apiKeyEnv"],
                num_workers=cfg["numWorkers"],
                max_retries=3,
                retry_backoff_base=0.5,
                retry_backoff_max=10.0,
                connection_timeout=120.0,
                use_adaptive_concurrency=False,
            ),
            generation=generation,
        )
    else:
        inference = InferenceConfig(
            model=ModelParams(model_name=cfg["model"], trust_remote_code=False),
            engine=InferenceEngineType.NATIVE,
            generation=generation,
        )
    return RubricJudge(
        JudgeConfig(
            judge_params=judge_params,
            rubric_judge_params=rubric,
            inference_config=inference,
        )
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", required=True, help="the resolved judge config (JSON)")
    ap.add_argument("--input", required=True, help="JSONL of {request, response}")
    ap.add_argument("--out", required=True, help="JSONL of judged answers, in order")
    args = ap.parse_args()

    started = time.time()
    with open(args.config) as f:
        cfg = json.load(f)
    with open(args.input) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    judge = build_judge(cfg)
    result = judge.judge_partial([{"request": r["request"], "response": r["response"]} for r in rows])

    judged = {idx: out for idx, out in result.successful}
    ids = [c["id"] for c in cfg["criteria"]]
    lines = []
    scored = 0
    for i in range(len(rows)):
        out = judged.get(i)
        if out is None:
            failure = result.failures.get(i)
            message = getattr(failure, "error_message", None) or "no judgment"
            lines.append({"score": None, "criteria": {}, "error": message[:500]})
            continue
        criteria = {}
        for cid in ids:
            label = out.field_values.get(cid)
            explanation = out.field_values.get(f"{cid}_explanation")
            criteria[cid] = {
                "label": label,
                "score": out.field_scores.get(cid),
                "explanation": explanation if isinstance(explanation, str) else None,
            }
        score = out.aggregate_score
        # A criterion the judge left out (or answered off its scale) makes the answer unscored.
        if any(c["score"] is None for c in criteria.values()):
            score = None
        if score is not None:
            scored += 1
        lines.append({"score": score, "criteria": criteria, "error": None if score is not None else "a criterion is missing or off its scale"})

    with open(args.out, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    summary = {
        "n": len(rows),
        "scored": scored,
        "failed": len(rows) - scored,
        "input_tokens": judge.total_input_tokens,
        "output_tokens": judge.total_output_tokens,
        "seconds": round(time.time() - started, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
