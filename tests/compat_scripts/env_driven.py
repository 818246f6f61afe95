"""Everything from the environment (a launcher or CI sets WANDB_* variables)."""
import trackwell as wandb

run = wandb.init()
wandb.log({"x": 1})
wandb.finish()
print(run.id)
