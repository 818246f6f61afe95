"""Two runs live at once (reinit="create_new", W&B 0.19+): a trainer and an evaluator."""
import trackwell as wandb

train = wandb.init(project="corpus-create-new", name="trainer", job_type="train", reinit="create_new")
evaluator = wandb.init(project="corpus-create-new", name="evaluator", job_type="eval", reinit="create_new")
assert wandb.run is None  # create_new leaves the global run alone, as W&B does
for step in range(5):
    train.log({"loss": 1.0 / (step + 1)})
    if step % 2 == 0:
        evaluator.log({"acc": step / 10})
evaluator.finish()
train.finish()
