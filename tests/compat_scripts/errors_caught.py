"""Scripts that catch W&B's error classes."""
import trackwell as wandb

try:
    wandb.init(project="bad/name")
except wandb.errors.UsageError as exc:
    print("usage:", "contains '/'" in str(exc))

run = wandb.init(project="corpus-errors", config={"lr": 0.1})
try:
    wandb.config.update({"lr": 0.2})
except wandb.Error:
    print("config: refused")
wandb.config.update({"lr": 0.2}, allow_val_change=True)
api = wandb.Api()
try:
    api.run(f"{run.entity}/corpus-errors/does-not-exist")
except wandb.errors.CommError:
    print("comm: not found")
wandb.finish()

try:
    wandb.init(project="corpus-errors", settings=wandb.Settings(api_key="tw_not-a-real-key"))
except wandb.errors.AuthenticationError:
    print("auth: refused")
