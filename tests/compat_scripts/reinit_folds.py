"""Cross-validation: one run per fold in one process, grouped."""
import trackwell as wandb

for fold in range(3):
    run = wandb.init(project="corpus-folds", group="cv-1", job_type="fold", name=f"fold-{fold}",
                     config={"fold": fold}, reinit="finish_previous")
    for step in range(3):
        run.log({"val_loss": 1.0 / (fold + step + 1)})
wandb.finish()
