"""Train, then analyse the run with the public API's history() DataFrame."""
import trackwell as wandb

run = wandb.init(project="corpus-history")
for step in range(20):
    wandb.log({"loss": 1.0 / (step + 1), "lr": 0.1 * 0.9 ** step})
wandb.finish()

api = wandb.Api()
remote = api.run(f"{run.entity}/{run.project}/{run.id}")
df = remote.history()
print(type(df).__name__, len(df), round(float(df["loss"].min()), 4), sorted(c for c in df.columns if not c.startswith("_")))
