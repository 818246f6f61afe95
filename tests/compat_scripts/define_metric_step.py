"""W&B's define_metric guide: a custom x-axis for validation metrics, summaries of the best values."""
import trackwell as wandb

wandb.init(project="corpus-define-metric")
wandb.define_metric("epoch")
wandb.define_metric("val/*", step_metric="epoch")
wandb.define_metric("train/loss", summary="min")
wandb.define_metric("val/acc", summary="max,last", goal="maximize")
wandb.define_metric("val/loss", summary="best,first", goal="minimize")

step = 0
for epoch in range(4):
    for _batch in range(5):
        wandb.log({"train/loss": 1.0 / (step + 1)})
        step += 1
    wandb.log({"epoch": epoch, "val/acc": [0.5, 0.8, 0.7, 0.75][epoch], "val/loss": [0.9, 0.4, 0.5, 0.45][epoch]})
wandb.finish()
