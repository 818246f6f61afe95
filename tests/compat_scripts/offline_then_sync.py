"""No network on the cluster node: log offline, `wandb sync` later (the test runs `trackwell sync`)."""
import trackwell as wandb

run = wandb.init(project="corpus-offline", mode="offline", config={"seed": 7})
run.name = "offline-node-7"
run.tags = ["offline"]
for i in range(10):
    wandb.log({"loss": 10 - i})
wandb.finish()
print(run.id)
