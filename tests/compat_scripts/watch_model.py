"""wandb.watch on a PyTorch model: gradient and parameter histograms every log_freq steps."""
import sys

import trackwell as wandb

try:
    import torch
except ImportError:
    print("torch not installed")
    sys.exit(0)

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
run = wandb.init(project="corpus-watch", save_code=True)
wandb.watch(model, log="all", log_freq=5)
x, y = torch.randn(32, 4), torch.randn(32, 1)
for _step in range(10):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    wandb.log({"loss": loss.item()})
wandb.unwatch(model)
wandb.finish()
print("watched")
