"""The same training script in CI, where WANDB_MODE=disabled: every call works, nothing is sent."""
import time

import trackwell as wandb

start = time.monotonic()
run = wandb.init(project="corpus-ci", config={"lr": 0.1})
wandb.define_metric("loss", summary="min")
for i in range(50):
    wandb.log({"loss": 1 / (i + 1)})
run.summary["best"] = 1.0
run.name = "ci"
wandb.finish()
print(f"{type(run).__name__} {time.monotonic() - start:.2f}")
