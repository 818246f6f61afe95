"""Config from a W&B-format YAML file, keeping a secret out of it."""
import pathlib

import trackwell as wandb

pathlib.Path("params.yaml").write_text(
    "wandb_version: 1\n"
    "learning_rate:\n  desc: step size\n  value: 0.001\n"
    "layers:\n  value: [128, 64]\n"
    "api_token:\n  value: hunter2\n")
run = wandb.init(project="corpus-yaml", config="params.yaml", config_exclude_keys=["api_token"])
wandb.log({"loss": 0.5})
wandb.finish()
