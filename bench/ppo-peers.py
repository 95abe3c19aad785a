"""Stable-Baselines3's PPO on one Gymnasium classic-control task, for bench/ppo-peers.ts.

Runs in .venv-sb3 (scripts/sb3-venv.sh), on the CPU, with one torch thread. The hyperparameters
arrive as JSON in CleanRL's names and are mapped onto SB3's: num_envs environments in a DummyVecEnv
(each wrapped in Monitor by make_vec_env), num_steps → n_steps, batch_size = num_envs·num_steps /
num_minibatches, update_epochs → n_epochs, a linear learning-rate schedule when anneal_lr,
clip_vloss → clip_range_vf = clip_coef, separate 64-64 tanh actor and critic (SB3's default
MlpPolicy with orthogonal init), norm_obs / norm_reward → VecNormalize. Prints one JSON line:
every finished episode's return in the order they finished, the steps and the wall seconds of
learn() (the environments' stepping included, import and set-up not) and its CPU seconds.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)

import gymnasium as gym  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.vec_env import VecNormalize  # noqa: E402


class EpisodeReturns(BaseCallback):
    def __init__(self):
        super().__init__()
        self.returns = []

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.returns.append(float(info["episode"]["r"]))
        return True


def main() -> None:
    task, seed, hp = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    env = make_vec_env(task, n_envs=hp["num_envs"], seed=seed)
    if hp.get("norm_obs") or hp.get("norm_reward"):
        env = VecNormalize(env, norm_obs=hp.get("norm_obs", False), norm_reward=hp.get("norm_reward", False),
                           clip_obs=hp.get("clip_obs", 10.0), clip_reward=hp.get("clip_reward", 10.0), gamma=hp["gamma"])
    lr = hp["learning_rate"]
    model = PPO(
        "MlpPolicy", env, seed=seed, device="cpu", verbose=0,
        learning_rate=(lambda progress: progress * lr) if hp["anneal_lr"] else lr,
        n_steps=hp["num_steps"],
        batch_size=hp["num_envs"] * hp["num_steps"] // hp["num_minibatches"],
        n_epochs=hp["update_epochs"],
        gamma=hp["gamma"], gae_lambda=hp["gae_lambda"],
        clip_range=hp["clip_coef"], clip_range_vf=hp["clip_coef"] if hp["clip_vloss"] else None,
        normalize_advantage=hp["norm_adv"],
        ent_coef=hp["ent_coef"], vf_coef=hp["vf_coef"], max_grad_norm=hp["max_grad_norm"],
        target_kl=hp["target_kl"],
        policy_kwargs={"net_arch": {"pi": hp["hidden_sizes"], "vf": hp["hidden_sizes"]}, "activation_fn": torch.nn.Tanh},
    )
    callback = EpisodeReturns()
    start, cpu_start = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=hp["total_timesteps"], callback=callback)
    seconds = time.perf_counter() - start
    print(json.dumps({"returns": callback.returns, "steps": model.num_timesteps, "seconds": seconds, "cpu_seconds": time.process_time() - cpu_start}))


if __name__ == "__main__":
    main()
