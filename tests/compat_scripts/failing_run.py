"""A run that crashes: W&B marks it failed; nested metrics are logged as W&B's 'a/b' keys."""
import trackwell as wandb

wandb.init(project="corpus-failing")
for i in range(3):
    wandb.log({"train": {"loss": 1.0 / (i + 1), "acc": i / 3}})
raise RuntimeError("diverged")
