"""Naming a run from its config after init (a common sweep-script pattern)."""
import trackwell as wandb

run = wandb.init(project="corpus-rename", config={"lr": 3e-4, "model": "resnet18"})
run.name = f"{wandb.config.model}-lr{wandb.config.lr}"
run.tags = run.tags + ("renamed",)
run.notes = "named after its config"
run.group = "resnets"
run.job_type = "train"
wandb.config.update({"epochs": 2})
for i in range(2):
    run.log({"loss": 1.0 / (i + 1)})
run.finish()
